package ai.mvar.train.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.mvar.nn.Functions;
import ai.mvar.tokenizer.ScaleSchedule;

/**
 * The reference's training loss: cross-entropy of every predicted token with optional label
 * smoothing ({@code torch.nn.CrossEntropyLoss(label_smoothing=eps)}: {@code (1 - eps) * nll +
 * eps * mean over the vocabulary of -log p}), weighted 1/L over the L tokens of the pass, i.e. the
 * mean; plus per-scale loss and token accuracy for the logs.
 */
final class TokenLoss {
    private TokenLoss() {}

    /**
     * @param mean the differentiable mean loss (scalar)
     * @param scaleLoss summed token loss per scale of the span (detached; divide by tokens)
     * @param scaleCorrect correctly predicted tokens per scale of the span
     */
    record Result(NDArray mean, double[] scaleLoss, double[] scaleCorrect) {}

    /**
     * @param logits {@code [B, N, V]} fp32 for the tokens of scales {@code [from, to)}
     * @param targets {@code [B, N]} int64 token indices, same order
     */
    static Result of(NDArray logits, NDArray targets, double smoothing, ScaleSchedule schedule, int from, int to) {
        NDArray logp = logits.logSoftmax(-1);
        NDArray nll = logp.gather(targets.expandDims(-1), -1).squeeze(-1).neg();
        NDArray perToken = smoothing > 0
                ? Functions.scale(nll, 1 - smoothing).add(Functions.scale(logp.mean(new int[] {-1}).neg(), smoothing))
                : nll;
        NDArray correct = logits.argMax(-1).eq(targets).toType(DataType.FLOAT32, false);
        double[] loss = new double[to - from];
        double[] right = new double[to - from];
        int offset = 0;
        for (int s = from; s < to; s++) {
            NDIndex cols = new NDIndex(":, {}:{}", offset, offset + schedule.tokens(s));
            loss[s - from] = perToken.get(cols).sum().getFloat();
            right[s - from] = correct.get(cols).sum().getFloat();
            offset += schedule.tokens(s);
        }
        return new Result(perToken.mean(), loss, right);
    }
}
