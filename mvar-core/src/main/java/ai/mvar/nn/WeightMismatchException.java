package ai.mvar.nn;

import java.util.List;

/** A state dict that does not fit the model: every offending key is listed at once. */
public final class WeightMismatchException extends IllegalArgumentException {
    private final List<String> missing;
    private final List<String> unexpected;
    private final List<String> misshaped;

    public WeightMismatchException(
            String source, List<String> missing, List<String> unexpected, List<String> misshaped) {
        super(message(source, missing, unexpected, misshaped));
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.misshaped = List.copyOf(misshaped);
    }

    public List<String> missing() {
        return missing;
    }

    public List<String> unexpected() {
        return unexpected;
    }

    /** Entries of the form {@code key: expected (a,b), found (c,d)}. */
    public List<String> misshaped() {
        return misshaped;
    }

    private static String message(
            String source, List<String> missing, List<String> unexpected, List<String> misshaped) {
        StringBuilder sb = new StringBuilder("weights in ").append(source).append(" do not fit the model:");
        section(sb, "missing", missing);
        section(sb, "unexpected", unexpected);
        section(sb, "wrong shape", misshaped);
        return sb.toString();
    }

    private static void section(StringBuilder sb, String title, List<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        sb.append("\n  ").append(keys.size()).append(' ').append(title).append(':');
        for (String k : keys) {
            sb.append("\n    ").append(k);
        }
    }
}
