package ai.mvar.attention;

import ai.mvar.tokenizer.ScaleSchedule;

/**
 * MVAR's scale-Markov pattern: a token of scale s sees only the tokens of scale s, whose inputs are
 * built from scale s-1, so {@code p(r_s | r_{s-1})} and no KV cache is needed.
 */
public final class BlockDiagonalMask extends BlockMask {

    /** The pattern over scales {@code [from, to)}. */
    public BlockDiagonalMask(ScaleSchedule schedule, int from, int to) {
        super(schedule, from, to);
    }

    @Override
    boolean visible(int queryScale, int keyScale) {
        return keyScale == queryScale;
    }
}
