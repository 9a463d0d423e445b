package ai.mvar.train.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.mvar.nn.Functions;
import ai.mvar.tokenizer.ScaleSchedule;

/**
 * The reference's training loss: cross-entropy of every predicted token with optional label
 * smoothing ({@code torch.nn.CrossEntropyLoss(label_smoothing=eps)}: {@code (1 - eps) * nll +
 * eps * mean over the vocabulary of -log p}), each token weighted 1/L with L the tokens of the
 * whole pyramid, summed over the pass's tokens and averaged over the batch: the reference trainer's
 * {@code loss.mul(loss_weight[:, L_bg:L_ed]).sum(dim=-1).mean()} with {@code loss_weight = 1/L}.
 * A VAR pass covers the pyramid, so its loss is the mean; an MVAR pass over n of the L tokens
 * weighs n/L of a mean. Plus the mean per token and per-scale loss and token accuracy for the logs.
 */
final class TokenLoss {
    private TokenLoss() {}

    /**
     * @param loss the reference's differentiable training loss (scalar), what the backward pass starts from
     * @param mean the mean loss per token of the pass (for the logs)
     * @param scaleLoss summed token loss per scale of the span (detached; divide by tokens)
     * @param scaleCorrect correctly predicted tokens per scale of the span
     */
    record Result(NDArray loss, double mean, double[] scaleLoss, double[] scaleCorrect) {}

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
        long b = perToken.getShape().get(0);
        NDArray weighted = Functions.scale(perToken.sum(), 1.0 / ((double) b * schedule.length()));
        return new Result(weighted, perToken.mean().getFloat(), loss, right);
    }
}
