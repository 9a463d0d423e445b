package ai.mvar.checkpoint;

import java.util.List;

/**
 * What a pickle would have built by calling a {@link PyGlobal}: the call is recorded, never made.
 * Such objects (training arguments, optimizer classes, RNG states) sit next to the state dict in
 * trainer checkpoints and are simply skipped. Equality is identity, as for most Python objects.
 */
public final class Placeholder {
    private final PyGlobal callee;
    private final List<Object> args;
    private Object state;

    Placeholder(PyGlobal callee, List<Object> args) {
        this.callee = callee;
        this.args = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(args));
    }

    /** The global the pickle asked to call. */
    public PyGlobal callee() {
        return callee;
    }

    /** The arguments of the call that was not made. */
    public List<Object> args() {
        return args;
    }

    /** The state a {@code BUILD} opcode would have applied, or null. */
    public Object state() {
        return state;
    }

    void setState(Object state) {
        this.state = state;
    }

    @Override
    public String toString() {
        return "placeholder for " + callee + "(...)";
    }
}
