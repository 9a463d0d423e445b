package ai.mvar.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Tensors;
import ai.mvar.tokenizer.ScaleSchedule;

/**
 * A dense attention pattern over the tokens of scales {@code [from, to)}, given by which scale may
 * see which: an additive bias of 0 (visible) or -inf (hidden), built once per pattern.
 */
abstract class BlockMask implements AttentionPattern {
    private final float[] bias;
    private final int tokens;

    BlockMask(ScaleSchedule schedule, int from, int to) {
        if (from < 0 || to > schedule.scales() || from >= to) {
            throw new IllegalArgumentException("scale range [" + from + ", " + to + ") is not inside " + schedule);
        }
        int offset = schedule.begin(from);
        tokens = schedule.begin(to) - offset;
        bias = new float[tokens * tokens];
        int[] level = schedule.levels();
        for (int i = 0; i < tokens; i++) {
            for (int j = 0; j < tokens; j++) {
                boolean visible = visible(level[offset + i], level[offset + j]);
                bias[i * tokens + j] = visible ? 0f : Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** Whether a query of scale {@code queryScale} sees a key of scale {@code keyScale}. */
    abstract boolean visible(int queryScale, int keyScale);

    @Override
    public NDArray attend(NDArray q, NDArray k, NDArray v, float scale) {
        long n = q.getShape().get(2);
        if (n != tokens || k.getShape().get(2) != tokens) {
            throw new IllegalArgumentException("mask covers " + tokens + " tokens, got queries "
                    + q.getShape() + " and keys " + k.getShape());
        }
        NDArray b = Tensors.of(q.getManager(), bias, new Shape(tokens, tokens)).toType(q.getDataType(), false);
        return DenseAttention.attend(q, k, v, scale, b);
    }
}
