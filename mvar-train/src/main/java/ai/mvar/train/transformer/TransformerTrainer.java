package ai.mvar.train.transformer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
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
import ai.mvar.train.data.DataPosition;
import ai.mvar.train.data.TokenCache.TokenBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Teacher-forced training of the VAR/MVAR transformer with per-scale cross-entropy, data parallel
 * over shards of each batch.
 *
 * <p>The master model holds the fp32 weights AdamW updates. Each update runs on fresh autograd
 * leaves made from them ({@link GradientLeaves}: aliases on the master's device in fp32, copies on
 * any other device or in fp16), so a parameter that the update's backward passes do not reach has no gradient and AdamW
 * skips it, as PyTorch does after {@code zero_grad(set_to_none=True)}. A step splits the batch into
 * one contiguous shard per entry of {@code devices}, runs each shard's forward and backward pass on
 * that device's leaves with the loss weighted by the shard's share of the batch (shards on one
 * device accumulate into the same leaves, as micro-batches), sums the devices' gradients on the
 * master's device and takes one AdamW step. The update is therefore the one a single pass makes on
 * the whole batch. Shards run one after another; the class-dropout draws are made for the whole
 * batch first, so the split never changes which labels are dropped.
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

    /** One device's leaves for the current update and the model that computes with them. */
    private record DeviceModel(GradientLeaves leaves, Transformer model) {}

    private final Transformer master;
    private final List<Device> shards;
    private final VqVae vae;
    private final Config config;
    private final ScaleSpans spans;
    private final Map<String, NDArray> trainable = new LinkedHashMap<>();
    private final AdamW optimizer;
    private final TrainingRandom dropout;
    private final GradScaler scaler;
    private final Map<Device, DeviceModel> update = new LinkedHashMap<>();
    private int microBatches;
    private long step;

    /**
     * @param master the trained weights (fp32), updated in place
     * @param shards one entry per shard of each batch: the device that computes it
     * @param vae the tokenizer, for the teacher-forcing input of each batch
     */
    public TransformerTrainer(Transformer master, List<Device> shards, VqVae vae, Config config) {
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("at least one shard is needed");
        }
        this.master = master;
        this.shards = List.copyOf(shards);
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
    }

    /** One shard on the master's device. */
    public TransformerTrainer(Transformer master, VqVae vae, Config config) {
        this(master, List.of(device(master)), vae, config);
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

    /** The loss scaler, empty in fp32. */
    public Optional<GradScaler> lossScaler() {
        return Optional.ofNullable(scaler);
    }

    /**
     * One training iteration on {@code batch} with learning rate {@code lr}; everything it
     * allocates is freed before it returns (the leaves of an update that accumulates further
     * micro-batches live until that update).
     *
     * @throws NonFiniteLossException on a NaN or infinite loss or gradient, before any weight changes
     */
    public StepResult step(TokenBatch batch, double lr) {
        ScaleSpans.Span span = spans.at(step);
        ScaleSchedule schedule = master.config().schedule();
        long[] labels = dropClasses(batch.labels().toLongArray());
        int b = labels.length;
        int n = shards.size();
        if (b < n) {
            throw new IllegalArgumentException("batch of " + b + " cannot be split over " + n + " shards");
        }
        double lossScale = scaler == null ? 1 : scaler.scale();
        double[] lossSum = new double[span.to() - span.from()];
        double[] correct = new double[span.to() - span.from()];
        double total = 0;
        try {
            for (int r = 0; r < n; r++) {
                int lo = (int) ((long) b * r / n);
                int hi = (int) ((long) b * (r + 1) / n);
                total += shardStep(deviceModel(shards.get(r)), batch, Arrays.copyOfRange(labels, lo, hi), lo, hi,
                        (double) (hi - lo) / b, lossScale, span, lossSum, correct);
            }
        } catch (NonFiniteLossException e) {
            endUpdate();
            throw e;
        }
        AdamW.StepReport report;
        if (++microBatches < config.optimizer().accumulation()) {
            report = new AdamW.StepReport(AdamW.Outcome.ACCUMULATED, Double.NaN, 1);
        } else {
            try {
                report = optimizer.update(lr, this::gradient, 1.0 / (microBatches * lossScale));
            } finally {
                endUpdate();
            }
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
        double[] scaleLoss = new double[schedule.scales()];
        double[] scaleAcc = new double[schedule.scales()];
        Arrays.fill(scaleLoss, Double.NaN);
        Arrays.fill(scaleAcc, Double.NaN);
        for (int s = span.from(); s < span.to(); s++) {
            double tokens = (double) b * schedule.tokens(s);
            scaleLoss[s] = lossSum[s - span.from()] / tokens;
            scaleAcc[s] = correct[s - span.from()] / tokens;
        }
        return new StepResult(step, span, total, scaleLoss, scaleAcc, report, lossScale);
    }

    /** The model computing on {@code device} in the current update, made at its first use. */
    private Transformer deviceModel(Device device) {
        return update.computeIfAbsent(device, d -> {
            GradientLeaves leaves = GradientLeaves.of(trainable, config.precision().dataType(), d);
            return new DeviceModel(leaves, Transformer.load(master.config(), leaves.stateDict(), config.precision()));
        }).model();
    }

    /** The update's gradient of {@code name}, summed over devices onto the master's; null if no pass reached it. */
    private NDArray gradient(String name) {
        NDArray sum = null;
        for (DeviceModel d : update.values()) {
            NDArray g = d.leaves().gradient(name);
            if (g != null) {
                g = g.toDevice(device(master), false);
                sum = sum == null ? g : sum.add(g);
            }
        }
        return sum;
    }

    /** Frees the update's leaves and gradients. */
    private void endUpdate() {
        update.values().forEach(d -> d.leaves().close());
        update.clear();
        microBatches = 0;
    }

    private static Device device(Transformer t) {
        return t.weights().tensors().values().iterator().next().getDevice();
    }

    /** Forward and backward of one shard on one device's model; returns its weighted loss. */
    private double shardStep(Transformer model, TokenBatch batch, long[] labels, int lo, int hi, double share,
            double lossScale, ScaleSpans.Span span, double[] lossSum, double[] correct) {
        double[] weighted = new double[1];
        Scope.run(() -> {
            NDManager m = batch.labels().getManager();
            List<NDArray> indices = new ArrayList<>();
            for (NDArray perScale : batch.indices()) {
                indices.add(perScale.get(new NDIndex("{}:{}", lo, hi)));
            }
            // The teacher input comes from the tokenizer's weights: no gradient, computed once per shard.
            NDArray teacher = vae.quantizer().teacherForcingInput(indices);
            Device device = device(model);
            NDArray targets = NDArrays.concat(new NDList(indices.subList(span.from(), span.to())), 1)
                    .toDevice(device, false);
            NDArray lab = Tensors.of(m, labels).toDevice(device, false);
            NDArray input = teacher.toDevice(device, false);
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray logits = model.logitsUnscoped(lab, input, span.from(), span.to(), config.mode());
                TokenLoss.Result res = TokenLoss.of(logits, targets, config.labelSmoothing(),
                        model.config().schedule(), span.from(), span.to());
                double mean = res.mean();
                NonFiniteLossException.check("transformer loss", step + 1, mean);
                weighted[0] = mean * share;
                for (int i = 0; i < lossSum.length; i++) {
                    lossSum[i] += res.scaleLoss()[i];
                    correct[i] += res.scaleCorrect()[i];
                }
                gc.backward(Functions.scale(res.loss(), share * lossScale));
            }
        });
        return weighted[0];
    }

    /** Replaces {@code classDropout} of the labels by the "no class" label, drawn per sample. */
    private long[] dropClasses(long[] labels) {
        long none = master.config().classes();
        for (int i = 0; i < labels.length; i++) {
            if (dropout.nextDouble() < config.classDropout()) {
                labels[i] = none;
            }
        }
        return labels;
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

    /** Closes the optimizer state and any update in progress (not the master model). */
    @Override
    public void close() {
        endUpdate();
        optimizer.close();
        if (scaler != null) {
            scaler.close();
        }
    }
}
