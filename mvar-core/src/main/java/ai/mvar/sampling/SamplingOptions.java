package ai.mvar.sampling;

import ai.mvar.config.Preset;
import ai.mvar.config.Temperature;
import ai.mvar.model.Mode;
import java.util.Objects;

/**
 * How to sample.
 *
 * @param mode VAR (KV cache) or MVAR (each scale from the one before it)
 * @param cfg classifier-free guidance strength; the step at scale s uses {@code t = cfg s/(K-1)}
 * @param topK keep the k most likely tokens (0: all; 1: greedy)
 * @param topP keep the smallest set of tokens whose probability exceeds p (0: all)
 * @param temperature divides the guided logits of each scale before top-k and top-p (1: the
 *     reference's sampler; above 1 flattens each token's distribution, below 1 sharpens it)
 * @param seed seeds every random draw: the same seed gives the same images on the same device
 */
public record SamplingOptions(Mode mode, double cfg, int topK, double topP, Temperature temperature, long seed) {

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
        Objects.requireNonNull(temperature, "temperature");
    }

    /** The reference's sampler: no temperature. */
    public SamplingOptions(Mode mode, double cfg, int topK, double topP, long seed) {
        this(mode, cfg, topK, topP, Temperature.NONE, seed);
    }

    /** A preset's suggested settings, every one of them. */
    public static SamplingOptions of(Preset.SamplingDefaults suggested, Mode mode, long seed) {
        return new SamplingOptions(mode, suggested.cfg(), suggested.topK(), suggested.topP(), suggested.temperature(), seed);
    }

    /** The same settings with another seed. */
    public SamplingOptions withSeed(long s) {
        return new SamplingOptions(mode, cfg, topK, topP, temperature, s);
    }

    /** {@code cfg 1.5, top-k 0, top-p 0.0, temperature 1.0}: the settings as the commands print them (seed aside). */
    public String describe() {
        return new Preset.SamplingDefaults(cfg, topK, topP, temperature).describe();
    }

    /** The reference's suggested settings for d16: cfg 2.7, top-k 1200, top-p 0.99. */
    public static SamplingOptions suggested(Mode mode, long seed) {
        return new SamplingOptions(mode, 2.7, 1200, 0.99, Temperature.NONE, seed);
    }

    /**
     * Whether a second, unconditional pass runs. MVAR skips it at cfg 1 (guidance would change
     * nothing); VAR's reference always runs it, and at cfg 1 still guides with {@code t = s/(K-1)}.
     */
    public boolean guided() {
        return mode == Mode.VAR || cfg != 1.0;
    }
}
