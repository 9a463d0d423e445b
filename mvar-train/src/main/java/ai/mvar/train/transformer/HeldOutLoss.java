package ai.mvar.train.transformer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Scope;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.data.TokenCache;
import java.io.IOException;
import java.util.stream.IntStream;

/**
 * The teacher-forced cross-entropy and token accuracy of a transformer on images it was not trained
 * on: every image of a token cache (the test split's, from {@code mvar tokenize --split test}), its
 * true class (no class dropout), each scale predicted from the ground-truth tokens of the scales
 * before it, in the attention of {@code mode}: the reference trainer's {@code eval_ep} on its
 * validation loader ({@code L_mean}, {@code L_tail}, {@code acc_mean}, {@code acc_tail}). Against
 * the training loss it separates a model that still generalises better from one that memorises.
 */
public final class HeldOutLoss {
    private HeldOutLoss() {}

    /**
     * @param images images scored
     * @param scaleLoss mean cross-entropy per token of each scale (nats)
     * @param scaleAccuracy share of each scale's tokens predicted exactly (arg max)
     */
    public record Result(int images, double[] scaleLoss, double[] scaleAccuracy, ScaleSchedule schedule) {
        /** Per token over the whole pyramid (each scale weighted by its tokens): the reference's {@code L_mean}. */
        public double mean() {
            return tokenWeighted(scaleLoss);
        }

        /** Token accuracy over the whole pyramid ({@code acc_mean}). */
        public double accuracy() {
            return tokenWeighted(scaleAccuracy);
        }

        private double tokenWeighted(double[] perScale) {
            double sum = 0;
            for (int s = 0; s < perScale.length; s++) {
                sum += perScale[s] * schedule.tokens(s);
            }
            return sum / schedule.length();
        }
    }

    /**
     * Scores every image of {@code cache} (its stored variants, not mirrors) in batches of
     * {@code batchSize}, on the device of {@code model}'s weights.
     *
     * @throws IllegalArgumentException if the cache's pyramid or vocabulary is not the model's
     */
    public static Result of(Transformer model, VqVae vae, TokenCache cache, Mode mode, int batchSize, NDManager manager)
            throws IOException {
        return fromSums(sums(model, vae, cache, mode, batchSize, manager, 0, cache.size()), cache.size(),
                model.config().schedule());
    }

    /**
     * The sums behind {@link #of} over images {@code [from, to)} of the cache (one rank's share):
     * the summed cross-entropy of each scale's tokens, then each scale's correctly predicted tokens.
     * Sums of disjoint shares add up to those of the whole cache.
     */
    public static double[] sums(Transformer model, VqVae vae, TokenCache cache, Mode mode, int batchSize,
            NDManager manager, int from, int to) throws IOException {
        ScaleSchedule schedule = model.config().schedule();
        cache.requireTokens(schedule, model.config().vocabSize(), "the model");
        int scales = schedule.scales();
        ScaleSpans spans = ScaleSpans.of(mode, model.config(), 1);
        double[] sums = new double[2 * scales];
        Device device = model.weights().tensors().values().iterator().next().getDevice();
        for (int first = from; first < to; first += batchSize) {
            int[] images = IntStream.range(first, Math.min(first + batchSize, to)).toArray();
            try (NDManager m = manager.newSubManager();
                    TokenCache.TokenBatch batch = cache.read(images, new boolean[images.length], m)) {
                Scope.run(() -> {
                    NDArray teacher = vae.quantizer().teacherForcingInput(batch.indices()).toDevice(device, false);
                    NDArray labels = batch.labels().toDevice(device, false);
                    for (int i = 0; i < spans.period(); i++) {
                        ScaleSpans.Span span = spans.at(i);
                        NDArray targets = NDArrays.concat(new NDList(batch.indices().subList(span.from(), span.to())), 1)
                                .toDevice(device, false);
                        NDArray logits = model.logitsUnscoped(labels, teacher, span.from(), span.to(), mode);
                        TokenLoss.Result r = TokenLoss.of(logits, targets, 0, schedule, span.from(), span.to());
                        for (int s = span.from(); s < span.to(); s++) {
                            sums[s] += r.scaleLoss()[s - span.from()];
                            sums[scales + s] += r.scaleCorrect()[s - span.from()];
                        }
                    }
                });
            }
        }
        return sums;
    }

    /** The means of {@link #sums} over {@code images} images. */
    public static Result fromSums(double[] sums, int images, ScaleSchedule schedule) {
        int scales = schedule.scales();
        double[] loss = new double[scales];
        double[] accuracy = new double[scales];
        for (int s = 0; s < scales; s++) {
            double tokens = (double) images * schedule.tokens(s);
            loss[s] = sums[s] / tokens;
            accuracy[s] = sums[scales + s] / tokens;
        }
        return new Result(images, loss, accuracy, schedule);
    }
}
