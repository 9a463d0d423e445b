package ai.mvar.attention;

import ai.mvar.tokenizer.ScaleSchedule;

/** VAR: a token of scale s sees every token of scales up to s. */
public final class BlockCausalMask extends BlockMask {

    /** The pattern over scales {@code [0, to)}. */
    public BlockCausalMask(ScaleSchedule schedule, int to) {
        super(schedule, 0, to);
    }

    @Override
    boolean visible(int queryScale, int keyScale) {
        return keyScale <= queryScale;
    }
}
