package ai.mvar.train.transformer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Functions;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Scope;
import ai.mvar.nn.Tensors;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.GradScaler;
import ai.mvar.train.GradientLeaves;
import ai.mvar.train.NonFiniteLossException;
import ai.mvar.train.TrainingRandom;
import ai.mvar.train.TrainingState;
import ai.mvar.train.data.BatchShard;
import ai.mvar.train.data.DataPosition;
import ai.mvar.train.data.TokenCache;
import ai.mvar.train.data.TokenCache.TokenBatch;
import ai.mvar.train.distributed.GradientReducer;
import ai.mvar.train.distributed.ProcessGroup;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Teacher-forced training of the VAR/MVAR transformer with per-scale cross-entropy, data parallel
 * over the ranks of a {@link ProcessGroup}: one process per device, shaped like PyTorch's DDP (see
 * docs/distributed.md).
 *
 * <p>The master model holds the fp32 weights AdamW updates. Each update runs on fresh autograd
 * leaves made from them ({@link GradientLeaves}: aliases of the masters in fp32, copies in fp16), so
 * a parameter that the update's backward passes do not reach has no gradient and AdamW skips it, as
 * PyTorch does after {@code zero_grad(set_to_none=True)}.
 *
 * <p>Every rank holds the same weights and computes its {@link BatchShard} of each batch, with the
 * loss weighted by the shard's share of the batch, so the ranks' gradients add up to the whole
 * batch's. Class dropout is drawn for the whole batch on every rank from the same generator, so the
 * split never changes which labels are dropped. The loss statistics are summed over the ranks after
 * each pass; at the last micro-batch of an update (gradient accumulation: {@link
 * AdamW.Config#accumulation()} passes per update) a {@link GradientReducer} sums the gradients in
 * buckets and every rank takes the same AdamW step (and the same loss-scale decision). N ranks
 * therefore make the update one process makes on the whole batch, and stay identical.
 *
 * <p>Mixed precision ({@link Precision#FP16}): the leaves are fp16 copies of the fp32 master
 * weights, the model computes as autocast would (fp16 products; norms, softmax, residual stream,
 * logits and the loss in fp32), the loss is multiplied by the {@link GradScaler}'s scale before the
 * backward pass, and the fp16 gradients are converted to fp32 and divided by it before clipping
 * and the AdamW step on the masters. A step whose gradients overflow is skipped and the scale
 * halved, as GradScaler does; a non-finite loss still stops the run, as in fp32: it comes from the
 * forward pass, which the loss scale does not touch.
 */
public final class TransformerTrainer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TransformerTrainer.class);

    /**
     * @param mode VAR (whole pyramid, block-causal) or MVAR (scale spans, see {@link ScaleSpans})
     * @param ratioK MVAR iterations on the scale-Markov block per round of neighbourhood scales (reference: 8)
     * @param labelSmoothing cross-entropy label smoothing (reference default: 0)
     * @param classDropout share of labels replaced by "no class", for classifier-free guidance (0.1)
     * @param seed seeds the class dropout
     * @param optimizer AdamW settings (clipping and accumulation included)
     * @param precision fp32, or fp16 with fp32 master weights and dynamic loss scaling
     * @param lossScaling the loss scaler's settings (fp16 only)
     */
    public record Config(Mode mode, int ratioK, double labelSmoothing, double classDropout, long seed,
            AdamW.Config optimizer, Precision precision, GradScaler.Config lossScaling) {
        public Config {
            if (labelSmoothing < 0 || labelSmoothing >= 1 || classDropout < 0 || classDropout >= 1) {
                throw new IllegalArgumentException("label smoothing and class dropout must lie in [0, 1): "
                        + labelSmoothing + ", " + classDropout);
            }
            precision.requireSupported();
        }

        /** fp32. */
        public Config(Mode mode, int ratioK, double labelSmoothing, double classDropout, long seed, AdamW.Config optimizer) {
            this(mode, ratioK, labelSmoothing, classDropout, seed, optimizer, Precision.FP32, GradScaler.Config.reference());
        }

        /** The reference recipe: ratio_k 8, no label smoothing, 10% class dropout, VAR's AdamW, fp32. */
        public static Config reference(Mode mode, long seed) {
            return new Config(mode, 8, 0, 0.1, seed, AdamW.Config.reference());
        }

        public Config withRatioK(int k) {
            return new Config(mode, k, labelSmoothing, classDropout, seed, optimizer, precision, lossScaling);
        }

        public Config withLabelSmoothing(double eps) {
            return new Config(mode, ratioK, eps, classDropout, seed, optimizer, precision, lossScaling);
        }

        public Config withOptimizer(AdamW.Config o) {
            return new Config(mode, ratioK, labelSmoothing, classDropout, seed, o, precision, lossScaling);
        }

        /** fp16 also scales the loss with {@link GradScaler.Config#reference()} unless {@link #withLossScaling} says otherwise. */
        public Config withPrecision(Precision p) {
            return new Config(mode, ratioK, labelSmoothing, classDropout, seed, optimizer, p, lossScaling);
        }

        public Config withLossScaling(GradScaler.Config c) {
            return new Config(mode, ratioK, labelSmoothing, classDropout, seed, optimizer, precision, c);
        }
    }

    /**
     * One step: the scales it trained, the mean loss, per-scale mean loss and token accuracy over
     * the whole pyramid (NaN for scales this step did not train), the optimizer's report (under fp16,
     * {@link AdamW.Outcome#NON_FINITE} is a step skipped for overflow) and the loss scale it used (1
     * in fp32).
     */
    public record StepResult(long step, ScaleSpans.Span span, double loss, double[] scaleLoss, double[] scaleAccuracy,
            AdamW.StepReport optimizer, double lossScale) {}

    private final Transformer master;
    private final VqVae vae;
    private final Config config;
    private final ScaleSpans spans;
    private final Map<String, NDArray> trainable = new LinkedHashMap<>();
    private final AdamW optimizer;
    private final TrainingRandom dropout;
    private final GradScaler scaler;
    private final ProcessGroup group;
    private final BatchShard shard;
    private final GradientReducer reducer;
    /** The current update's leaves and the model over them; null between updates. */
    private GradientLeaves leaves;
    private Transformer leafModel;
    private int microBatches;
    private long step;

    /**
     * @param master the trained weights (fp32), updated in place; the same on every rank
     * @param vae the tokenizer, for the teacher-forcing input of each batch
     * @param group the ranks that share each batch ({@link ProcessGroup#single()} for one process)
     * @param bucketBytes the gradient all-reduce's bucket size ({@link GradientReducer#DEFAULT_BUCKET_BYTES})
     */
    public TransformerTrainer(Transformer master, VqVae vae, Config config, ProcessGroup group, long bucketBytes) {
        this.master = master;
        this.vae = vae;
        this.config = config;
        this.spans = ScaleSpans.of(config.mode(), master.config(), config.ratioK());
        Set<String> buffers = Transformer.spec(master.config()).buffers().keySet();
        master.weights().tensors().forEach((k, v) -> {
            if (!buffers.contains(k)) {
                trainable.put(k, v);
            }
        });
        this.optimizer = new AdamW(trainable, config.optimizer());
        this.scaler = config.precision() == Precision.FP16
                ? new GradScaler(config.lossScaling(), trainable.values().iterator().next().getManager()) : null;
        this.dropout = new TrainingRandom(config.seed());
        this.group = group;
        this.shard = new BatchShard(group.rank(), group.size());
        this.reducer = new GradientReducer(group, trainable, bucketBytes);
    }

    /** Training in one process. */
    public TransformerTrainer(Transformer master, VqVae vae, Config config) {
        this(master, vae, config, ProcessGroup.single(), GradientReducer.DEFAULT_BUCKET_BYTES);
    }

    public long step() {
        return step;
    }

    public ScaleSpans spans() {
        return spans;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public Transformer model() {
        return master;
    }

    /** The part of each batch this rank computes. */
    public BatchShard shard() {
        return shard;
    }

    /** The loss scaler, empty in fp32. */
    public Optional<GradScaler> lossScaler() {
        return Optional.ofNullable(scaler);
    }

    /** One training iteration on the whole of {@code batch}, in a job of one process. */
    public StepResult step(TokenBatch batch, double lr) {
        if (group.size() != 1) {
            throw new IllegalStateException("rank " + group.rank() + " of " + group.size()
                    + " trains on its shard of a batch: call step(shard, batchSize, lr)");
        }
        return step(batch, Math.toIntExact(batch.labels().size()), lr);
    }

    /**
     * One training iteration with learning rate {@code lr} on this rank's {@link BatchShard} of a
     * batch of {@code batchSize} samples ({@code local} holds just the shard); everything it
     * allocates is freed before it returns (the leaves of an update that accumulates further
     * micro-batches live until that update). The result describes the whole batch.
     *
     * @throws NonFiniteLossException on a NaN or infinite loss (or, in fp32, gradient) on any rank,
     *     before any weight changes (every rank throws)
     */
    public StepResult step(TokenBatch local, int batchSize, double lr) {
        ScaleSpans.Span span = spans.at(step);
        ScaleSchedule schedule = master.config().schedule();
        int from = shard.from(batchSize);
        int rows = Math.toIntExact(local.labels().size());
        if (rows != shard.size(batchSize)) {
            throw new IllegalArgumentException("rank " + shard.rank() + " of " + shard.ranks() + " computes samples ["
                    + from + ", " + shard.to(batchSize) + ") of a batch of " + batchSize + ", got " + rows + " samples");
        }
        long[] labels = dropClasses(local.labels().toLongArray(), from, batchSize);
        double lossScale = scaler == null ? 1 : scaler.scale();
        double[] stats;
        try {
            // [weighted mean loss, loss sum per scale..., correct tokens per scale...], summed over the ranks
            stats = group.allReduceSum(pass(local, labels, (double) rows / batchSize, lossScale, span));
        } catch (RuntimeException e) {
            endUpdate();
            throw e;
        }
        if (!Double.isFinite(stats[0])) {
            endUpdate();
            throw new NonFiniteLossException("transformer loss", step + 1, stats[0]);
        }
        AdamW.StepReport report;
        if (++microBatches < config.optimizer().accumulation()) {
            report = new AdamW.StepReport(AdamW.Outcome.ACCUMULATED, Double.NaN, 1);
        } else {
            AdamW.StepReport[] applied = new AdamW.StepReport[1];
            try {
                Scope.run(() -> {
                    Function<String, NDArray> summed = reducer.reduce(this::gradient);
                    applied[0] = optimizer.update(lr, summed::apply, 1.0 / (microBatches * lossScale));
                });
            } finally {
                endUpdate();
            }
            report = applied[0];
            boolean overflow = report.outcome() == AdamW.Outcome.NON_FINITE;
            if (scaler == null && overflow) {
                throw new NonFiniteLossException("gradient norm", step + 1, report.gradNorm());
            }
            if (scaler != null) {
                scaler.update(overflow);
                if (overflow) {
                    LOG.info("step {}: gradients overflowed at loss scale {}; step skipped, scale now {}", step + 1,
                            lossScale, scaler.scale());
                }
            }
        }
        step++;
        int scales = span.to() - span.from();
        double[] scaleLoss = new double[schedule.scales()];
        double[] scaleAcc = new double[schedule.scales()];
        Arrays.fill(scaleLoss, Double.NaN);
        Arrays.fill(scaleAcc, Double.NaN);
        for (int s = span.from(); s < span.to(); s++) {
            double tokens = (double) batchSize * schedule.tokens(s);
            scaleLoss[s] = stats[1 + s - span.from()] / tokens;
            scaleAcc[s] = stats[1 + scales + s - span.from()] / tokens;
        }
        return new StepResult(step, span, stats[0], scaleLoss, scaleAcc, report, lossScale);
    }

    /** The model computing the current update, on fresh leaves made at the update's first pass. */
    private Transformer updateModel() {
        if (leaves == null) {
            leaves = GradientLeaves.of(trainable, config.precision().dataType(), device(master));
            leafModel = Transformer.load(master.config(), leaves.stateDict(), config.precision());
        }
        return leafModel;
    }

    /** The update's gradient of {@code name} on this rank; null if no pass reached it. */
    private NDArray gradient(String name) {
        return leaves == null ? null : leaves.gradient(name);
    }

    /** Frees the update's leaves and gradients. */
    private void endUpdate() {
        if (leaves != null) {
            leaves.close();
            leaves = null;
            leafModel = null;
        }
        microBatches = 0;
    }

    private static Device device(Transformer t) {
        return t.weights().tensors().values().iterator().next().getDevice();
    }

    /**
     * Forward and backward of this rank's samples with the loss weighted by {@code share} (and
     * multiplied by the loss scale); returns the weighted mean loss, then the loss sums, then the
     * correct tokens, per scale of the span.
     */
    private double[] pass(TokenBatch local, long[] labels, double share, double lossScale, ScaleSpans.Span span) {
        int scales = span.to() - span.from();
        double[] stats = new double[1 + 2 * scales];
        Transformer model = updateModel();
        Scope.run(() -> {
            // The teacher input comes from the tokenizer's weights: no gradient.
            NDArray teacher = vae.quantizer().teacherForcingInput(local.indices());
            Device device = device(model);
            NDArray targets = NDArrays.concat(new NDList(local.indices().subList(span.from(), span.to())), 1)
                    .toDevice(device, false);
            NDArray lab = Tensors.of(local.labels().getManager(), labels).toDevice(device, false);
            NDArray input = teacher.toDevice(device, false);
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray logits = model.logitsUnscoped(lab, input, span.from(), span.to(), config.mode());
                TokenLoss.Result res = TokenLoss.of(logits, targets, config.labelSmoothing(),
                        model.config().schedule(), span.from(), span.to());
                // The backward pass needs the log-softmax (autograd keeps it), not the logits: freed
                // here, a [B, N, V] array less at the pass's peak, the backward pass.
                logits.close();
                // a NaN loss is judged once the ranks have summed it, so that all of them stop
                stats[0] = res.mean() * share;
                for (int i = 0; i < scales; i++) {
                    stats[1 + i] = res.scaleLoss()[i];
                    stats[1 + scales + i] = res.scaleCorrect()[i];
                }
                gc.backward(Functions.scale(res.loss(), share * lossScale));
            }
        });
        return stats;
    }

    /**
     * Replaces {@code classDropout} of the labels by the "no class" label, drawn per sample of the
     * whole batch of {@code batchSize}; {@code labels} are samples {@code from, from + 1, ...} of it.
     */
    private long[] dropClasses(long[] labels, int from, int batchSize) {
        long none = master.config().classes();
        for (int i = 0; i < batchSize; i++) {
            boolean drop = dropout.nextDouble() < config.classDropout();
            if (drop && i >= from && i < from + labels.length) {
                labels[i - from] = none;
            }
        }
        return labels;
    }

    /**
     * The current weights' {@link HeldOutLoss} on every image of {@code cache}: each rank scores its
     * {@link BatchShard} of the cache and the sums are added over the ranks, so every rank returns
     * the whole cache's result. Scored with the fp32 master weights, between updates.
     */
    public HeldOutLoss.Result heldOutLoss(TokenCache cache, int batchSize, NDManager manager) throws IOException {
        int images = cache.size();
        double[] sums = HeldOutLoss.sums(master, vae, cache, config.mode(), batchSize, manager, shard.from(images),
                shard.to(images));
        return HeldOutLoss.fromSums(group.allReduceSum(sums), images, master.config().schedule());
    }

    /** Everything needed to resume: weights and optimizer, step, dropout generator. */
    public TrainingState snapshot(DataPosition data) {
        Map<String, NDArray> state = new LinkedHashMap<>(optimizer.state());
        if (scaler != null) {
            state.putAll(scaler.state());
        }
        return new TrainingState(step, trainable, state, optimizer.steps(), data,
                Map.of("class_dropout", dropout.state()),
                Map.of("model", "transformer", "mode", config.mode().name().toLowerCase(Locale.ROOT),
                        "precision", config.precision().toString()));
    }

    /** Continues from a checkpoint; an update in progress is dropped. */
    public void restore(TrainingState state) {
        endUpdate();
        state.restoreWeights(trainable);
        optimizer.restore(state.optimizer(), state.optimizerSteps());
        if (scaler != null && !scaler.restore(state.optimizer())) {
            LOG.info("the checkpoint has no loss scale (an fp32 run): starting at {}", scaler.scale());
        }
        step = state.step();
        Long d = state.random().get("class_dropout");
        if (d != null) {
            dropout.restore(d);
        }
    }

    /** Closes the optimizer state, the gradient buckets and any update in progress (not the master model). */
    @Override
    public void close() {
        endUpdate();
        optimizer.close();
        reducer.close();
        if (scaler != null) {
            scaler.close();
        }
    }
}
