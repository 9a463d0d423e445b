package ai.mvar.sampling;

import ai.mvar.model.Mode;

/**
 * How to sample.
 *
 * @param mode VAR (KV cache) or MVAR (each scale from the one before it)
 * @param cfg classifier-free guidance strength; the step at scale s uses {@code t = cfg s/(K-1)}
 * @param topK keep the k most likely tokens (0: all; 1: greedy)
 * @param topP keep the smallest set of tokens whose probability exceeds p (0: all)
 * @param seed seeds every random draw: the same seed gives the same images on the same device
 */
public record SamplingOptions(Mode mode, double cfg, int topK, double topP, long seed) {

    public SamplingOptions {
        if (cfg < 0 || Double.isNaN(cfg)) {
            throw new IllegalArgumentException("cfg must be >= 0, got " + cfg);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        }
        if (!(topP >= 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in [0, 1], got " + topP);
        }
    }

    /** The reference's suggested settings for d16: cfg 2.7, top-k 1200, top-p 0.99. */
    public static SamplingOptions suggested(Mode mode, long seed) {
        return new SamplingOptions(mode, 2.7, 1200, 0.99, seed);
    }

    /**
     * Whether a second, unconditional pass runs. MVAR skips it at cfg 1 (guidance would change
     * nothing); VAR's reference always runs it, and at cfg 1 still guides with {@code t = s/(K-1)}.
     */
    public boolean guided() {
        return mode == Mode.VAR || cfg != 1.0;
    }
}
