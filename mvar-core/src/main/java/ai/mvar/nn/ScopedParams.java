package ai.mvar.nn;

/** Prefix handling shared by every {@link Params} implementation. */
abstract class ScopedParams implements Params {
    private final String prefix;

    ScopedParams(String prefix) {
        this.prefix = prefix;
    }

    /** The full key of a name relative to this view. */
    protected final String key(String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    @Override
    public final Params child(String name) {
        return withPrefix(key(name));
    }

    protected abstract Params withPrefix(String fullPrefix);
}
