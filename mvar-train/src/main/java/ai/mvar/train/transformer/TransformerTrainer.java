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
import ai.mvar.nn.Scope;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Tensors;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.NonFiniteLossException;
import ai.mvar.train.TrainingRandom;
import ai.mvar.train.TrainingState;
import ai.mvar.train.data.DataPosition;
import ai.mvar.train.data.TokenCache.TokenBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Teacher-forced training of the VAR/MVAR transformer with per-scale cross-entropy, data parallel
 * over replicas.
 *
 * <p>Replica 0 holds the weights the optimizer updates; every other replica (one per further
 * device, or further logical replicas on one CPU) holds a copy. A step splits the batch into one
 * contiguous shard per replica, runs each shard's forward and backward pass on its replica with the
 * loss weighted by the shard's share of the batch, sums every replica's gradients into replica 0,
 * takes one AdamW step and copies the new weights back out. The update is therefore the one a
 * single replica would make on the whole batch. Replicas run one after another; the class-dropout
 * draws are made for the whole batch first, so the split never changes which labels are dropped.
 */
public final class TransformerTrainer implements AutoCloseable {

    /**
     * @param mode VAR (whole pyramid, block-causal) or MVAR (scale spans, see {@link ScaleSpans})
     * @param ratioK MVAR iterations on the scale-Markov block per round of neighbourhood scales (reference: 8)
     * @param labelSmoothing cross-entropy label smoothing (reference default: 0)
     * @param classDropout share of labels replaced by "no class", for classifier-free guidance (0.1)
     * @param seed seeds the class dropout
     * @param optimizer AdamW settings (clipping and accumulation included)
     */
    public record Config(Mode mode, int ratioK, double labelSmoothing, double classDropout, long seed,
            AdamW.Config optimizer) {
        public Config {
            if (labelSmoothing < 0 || labelSmoothing >= 1 || classDropout < 0 || classDropout >= 1) {
                throw new IllegalArgumentException("label smoothing and class dropout must lie in [0, 1): "
                        + labelSmoothing + ", " + classDropout);
            }
        }

        /** The reference recipe: ratio_k 8, no label smoothing, 10% class dropout, VAR's AdamW. */
        public static Config reference(Mode mode, long seed) {
            return new Config(mode, 8, 0, 0.1, seed, AdamW.Config.reference());
        }

        public Config withRatioK(int k) {
            return new Config(mode, k, labelSmoothing, classDropout, seed, optimizer);
        }

        public Config withLabelSmoothing(double eps) {
            return new Config(mode, ratioK, eps, classDropout, seed, optimizer);
        }

        public Config withOptimizer(AdamW.Config o) {
            return new Config(mode, ratioK, labelSmoothing, classDropout, seed, o);
        }
    }

    /**
     * One step: the scales it trained, the mean loss, per-scale mean loss and token accuracy over
     * the whole pyramid (NaN for scales this step did not train) and the optimizer's report.
     */
    public record StepResult(long step, ScaleSpans.Span span, double loss, double[] scaleLoss, double[] scaleAccuracy,
            AdamW.StepReport optimizer) {}

    private final List<Transformer> replicas;
    private final VqVae vae;
    private final Config config;
    private final ScaleSpans spans;
    private final List<String> trainable;
    private final AdamW optimizer;
    private final TrainingRandom dropout;
    private long step;

    /**
     * @param replicas replica 0 is trained; the others must hold the same weights (see {@link #replicate})
     * @param vae the tokenizer, for the teacher-forcing input of each batch
     */
    public TransformerTrainer(List<Transformer> replicas, VqVae vae, Config config) {
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException("at least one replica is needed");
        }
        this.replicas = List.copyOf(replicas);
        this.vae = vae;
        this.config = config;
        Transformer master = replicas.get(0);
        this.spans = ScaleSpans.of(config.mode(), master.config(), config.ratioK());
        Set<String> buffers = Transformer.spec(master.config()).buffers().keySet();
        this.trainable = master.weights().keys().stream().filter(k -> !buffers.contains(k)).toList();
        Map<String, NDArray> params = new LinkedHashMap<>();
        trainable.forEach(k -> params.put(k, master.weights().get(k)));
        this.optimizer = new AdamW(params, config.optimizer());
        for (Transformer r : this.replicas.subList(1, this.replicas.size())) {
            trainable.forEach(k -> r.weights().get(k).setRequiresGradient(true));
        }
        this.dropout = new TrainingRandom(config.seed());
    }

    /**
     * {@code master} plus a copy of its weights on every further device ({@code devices[0]} is
     * the master's). Copies on the CPU are separate tensors too, so the replica code path is the same.
     */
    public static List<Transformer> replicate(Transformer master, List<Device> devices) {
        List<Transformer> out = new ArrayList<>();
        out.add(master);
        for (Device d : devices.subList(1, devices.size())) {
            NDManager m = Torch.newManager(d);
            StateDict copy = new StateDict(m, master.weights().source() + " (replica on " + d + ")");
            master.weights().tensors().forEach((k, v) -> copy.put(k, v.toDevice(d, true).duplicate()));
            out.add(Transformer.load(master.config(), copy));
        }
        return out;
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
        return replicas.get(0);
    }

    /**
     * One training iteration on {@code batch} with learning rate {@code lr}; everything it
     * allocates is freed before it returns.
     *
     * @throws NonFiniteLossException on a NaN or infinite loss or gradient, before any weight changes
     */
    public StepResult step(TokenBatch batch, double lr) {
        ScaleSpans.Span span = spans.at(step);
        ScaleSchedule schedule = model().config().schedule();
        long[] labels = dropClasses(batch.labels().toLongArray());
        int b = labels.length;
        int shards = replicas.size();
        if (b < shards) {
            throw new IllegalArgumentException("batch of " + b + " cannot be split over " + shards + " replicas");
        }
        double[] lossSum = new double[span.to() - span.from()];
        double[] correct = new double[span.to() - span.from()];
        double total = 0;
        try {
            for (int r = 0; r < shards; r++) {
                int lo = (int) ((long) b * r / shards);
                int hi = (int) ((long) b * (r + 1) / shards);
                total += shardStep(replicas.get(r), batch, Arrays.copyOfRange(labels, lo, hi), lo, hi, (double) (hi - lo) / b,
                        span, lossSum, correct);
            }
        } catch (NonFiniteLossException e) {
            optimizer.zeroGradients();
            replicas.subList(1, shards).forEach(this::zeroGradients);
            throw e;
        }
        sumGradientsIntoMaster();
        AdamW.StepReport report = optimizer.step(lr);
        if (report.applied()) {
            broadcastWeights();
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
        return new StepResult(step, span, total, scaleLoss, scaleAcc, report);
    }

    /** Forward and backward of one shard on one replica; returns its weighted loss. */
    private double shardStep(Transformer replica, TokenBatch batch, long[] labels, int lo, int hi, double share,
            ScaleSpans.Span span, double[] lossSum, double[] correct) {
        double[] weighted = new double[1];
        Scope.run(() -> {
            NDManager m = batch.labels().getManager();
            List<NDArray> indices = new ArrayList<>();
            for (NDArray perScale : batch.indices()) {
                indices.add(perScale.get(new NDIndex("{}:{}", lo, hi)));
            }
            // The teacher input comes from the tokenizer's weights: no gradient, computed once per shard.
            NDArray teacher = vae.quantizer().teacherForcingInput(indices);
            Device device = replica.weights().tensors().values().iterator().next().getDevice();
            NDArray targets = NDArrays.concat(new NDList(indices.subList(span.from(), span.to())), 1)
                    .toDevice(device, false);
            NDArray lab = Tensors.of(m, labels).toDevice(device, false);
            NDArray input = teacher.toDevice(device, false);
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray logits = replica.logitsUnscoped(lab, input, span.from(), span.to(), config.mode());
                TokenLoss.Result res = TokenLoss.of(logits, targets, config.labelSmoothing(),
                        replica.config().schedule(), span.from(), span.to());
                double mean = res.mean().getFloat();
                NonFiniteLossException.check("transformer loss", step + 1, mean);
                weighted[0] = mean * share;
                for (int i = 0; i < lossSum.length; i++) {
                    lossSum[i] += res.scaleLoss()[i];
                    correct[i] += res.scaleCorrect()[i];
                }
                gc.backward(Functions.scale(res.mean(), share));
            }
        });
        return weighted[0];
    }

    /** Replaces {@code classDropout} of the labels by the "no class" label, drawn per sample. */
    private long[] dropClasses(long[] labels) {
        long none = model().config().classes();
        for (int i = 0; i < labels.length; i++) {
            if (dropout.nextDouble() < config.classDropout()) {
                labels[i] = none;
            }
        }
        return labels;
    }

    private void sumGradientsIntoMaster() {
        Transformer master = model();
        for (Transformer r : replicas.subList(1, replicas.size())) {
            for (String k : trainable) {
                NDArray theirs = gradient(r.weights().get(k));
                if (theirs == null) {
                    continue;
                }
                NDArray mine = master.weights().get(k).getGradient();
                Scope.run(() -> mine.addi(theirs.toDevice(mine.getDevice(), false)));
            }
            zeroGradients(r);
        }
    }

    private void broadcastWeights() {
        Transformer master = model();
        for (Transformer r : replicas.subList(1, replicas.size())) {
            for (String k : trainable) {
                NDArray target = r.weights().get(k);
                Scope.run(() -> target.set(new NDIndex("..."), master.weights().get(k).toDevice(target.getDevice(), false)));
            }
        }
    }

    private void zeroGradients(Transformer r) {
        for (String k : trainable) {
            NDArray g = gradient(r.weights().get(k));
            if (g != null) {
                Scope.run(() -> g.set(new NDIndex("..."), 0f));
            }
        }
    }

    private static NDArray gradient(NDArray p) {
        try {
            return p.getGradient();
        } catch (IllegalStateException e) {
            return null;
        }
    }

    /** Everything needed to resume: weights and optimizer of replica 0, step, dropout generator. */
    public TrainingState snapshot(DataPosition data) {
        Map<String, NDArray> weights = new LinkedHashMap<>();
        trainable.forEach(k -> weights.put(k, model().weights().get(k)));
        return new TrainingState(step, weights, optimizer.state(), optimizer.steps(), data,
                Map.of("class_dropout", dropout.state()),
                Map.of("model", "transformer", "mode", config.mode().name().toLowerCase(java.util.Locale.ROOT)));
    }

    /** Continues from a checkpoint (every replica gets its weights). */
    public void restore(TrainingState state) {
        Map<String, NDArray> live = new LinkedHashMap<>();
        trainable.forEach(k -> live.put(k, model().weights().get(k)));
        state.restoreWeights(live);
        broadcastWeights();
        optimizer.restore(state.optimizer(), state.optimizerSteps());
        step = state.step();
        Long d = state.random().get("class_dropout");
        if (d != null) {
            dropout.restore(d);
        }
    }

    /** Closes the optimizer state and the replicas this trainer made copies for (not replica 0). */
    @Override
    public void close() {
        optimizer.close();
        replicas.subList(1, replicas.size()).forEach(Transformer::close);
    }
}
