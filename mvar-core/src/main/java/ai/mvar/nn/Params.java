package ai.mvar.nn;

import ai.djl.ndarray.NDArray;

/**
 * Where a module gets its named parameters. The architecture is written once, as the sequence of
 * {@link #get} calls a module makes while it is constructed; the implementations decide whether
 * that sequence loads weights ({@link StateDictParams}), creates fresh ones ({@link InitParams}) or
 * only records the expected names and shapes ({@link ParameterSpec}).
 *
 * <p>Names are PyTorch state-dict keys, so official checkpoints load unchanged.
 */
public interface Params {

    /**
     * The parameter {@code name} (relative to this view's prefix) with the given shape.
     *
     * @param init how to initialise it when weights are created rather than loaded
     * @return the array, or {@code null} when only recording a specification
     */
    NDArray get(String name, Init init, long... shape);

    /** The same source, with {@code prefix + "."} prepended to every name. */
    Params child(String prefix);

    /**
     * Declares a buffer that official checkpoints store but this implementation derives or does not
     * need (a training statistic such as {@code quantize.ema_vocab_hit_SV}, the attention mask):
     * part of the specification, never loaded, and not an "unexpected" key when present.
     */
    void buffer(String name, long... shape);

    /** How a freshly created parameter is initialised. */
    enum Init {
        ZEROS,
        ONES,
        /** Truncated normal with std 0.02, the reference's default for weights. */
        NORMAL,
        /** The constant ln 4, VAR's initial attention temperature {@code scale_mul_1H11}. */
        LOG4,
        /** PyTorch's default for conv and linear layers: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
        FAN_IN_UNIFORM
    }
}
