package ai.mvar.train.transformer;

import ai.mvar.model.Mode;
import ai.mvar.model.TransformerConfig;

/**
 * Which scales each training iteration predicts. VAR: the whole pyramid every iteration, under the
 * block-causal mask. MVAR (scale-Markov): a cycle of {@code ratioK} iterations on scales
 * {@code [0, refine_step)} together (block-diagonal mask), then one iteration on each
 * neighbourhood scale alone. No iteration needs a coarser scale's activations, which is where the
 * training memory goes.
 */
public record ScaleSpans(Mode mode, int scales, int refineStep, int ratioK) {

    /** Scales {@code [from, to)} of one iteration. */
    public record Span(int from, int to) {}

    public ScaleSpans {
        if (ratioK < 1) {
            throw new IllegalArgumentException("ratio_k must be at least 1, got " + ratioK);
        }
        if (mode == Mode.MVAR && refineStep < 1) {
            throw new IllegalArgumentException("MVAR training needs refine_step >= 1, got " + refineStep);
        }
    }

    public static ScaleSpans of(Mode mode, TransformerConfig config, int ratioK) {
        return new ScaleSpans(mode, config.schedule().scales(), config.refineStep(), ratioK);
    }

    /** Iterations before the pattern repeats. */
    public int period() {
        return mode == Mode.VAR ? 1 : ratioK + scales - refineStep;
    }

    /** The span of iteration {@code iteration} (0-based); a pure function, so a resumed run agrees. */
    public Span at(long iteration) {
        if (mode == Mode.VAR) {
            return new Span(0, scales);
        }
        int phase = (int) (iteration % period());
        if (phase < ratioK) {
            return new Span(0, refineStep);
        }
        int scale = refineStep + phase - ratioK;
        return new Span(scale, scale + 1);
    }
}
