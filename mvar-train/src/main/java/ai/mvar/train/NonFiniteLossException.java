package ai.mvar.train;

/**
 * A training step produced a NaN or infinite loss or gradient. It is thrown before the optimizer
 * touches the weights and before any checkpoint is written, so the newest checkpoint on disk is
 * still the last good state to resume from.
 */
public final class NonFiniteLossException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public NonFiniteLossException(String what, long step, double value) {
        super("non-finite " + what + " (" + value + ") at step " + step
                + "; the weights were not updated and no checkpoint was written, resume from the last good one"
                + " (lower the learning rate or check the data)");
    }

    private NonFiniteLossException(String message) {
        super(message);
    }

    /** The same failure, naming the checkpoint a resumed run would start from. */
    public NonFiniteLossException withLastCheckpoint(java.nio.file.Path last) {
        return new NonFiniteLossException(getMessage() + "; last good checkpoint: " + (last == null ? "none yet" : last));
    }

    /** Throws unless {@code value} is finite. */
    public static void check(String what, long step, double value) {
        if (!Double.isFinite(value)) {
            throw new NonFiniteLossException(what, step, value);
        }
    }
}
