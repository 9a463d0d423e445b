package ai.mvar.train.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.mvar.attention.NeighbourhoodAttention;
import ai.mvar.bench.Gauge;
import ai.mvar.bench.Measurement;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.InitParams;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Tensors;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import ai.mvar.train.data.TokenCache.TokenBatch;
import ai.mvar.train.distributed.Backend;
import ai.mvar.train.distributed.DataParallel;
import ai.mvar.train.distributed.GradientReducer;
import ai.mvar.train.distributed.LaunchEnvironment;
import ai.mvar.train.distributed.ProcessGroup;
import ai.mvar.train.transformer.ScaleSpans;
import ai.mvar.train.transformer.TransformerTrainer;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * One training benchmark task, run in its own JVM by {@link ai.mvar.bench.ForkedProbe}: a
 * transformer with random weights trained on random tokens for whole cycles of its mode's scale
 * spans (VAR: one iteration over the whole pyramid; MVAR: {@code ratio_k} iterations on the
 * scale-Markov block, then one per neighbourhood scale), on the CPU or a GPU, in fp32 or fp16 (fp32
 * master weights, loss scaling). Prints {@code RESULT <median ms per cycle> <peak bytes>} and
 * {@code PROBE <json>} with every reading.
 *
 * <p>One warm-up cycle runs first, then {@code cycles} cycles are timed, each iteration between two
 * device synchronisations. Time per pass over the pyramid: the iteration on the whole pyramid
 * (VAR), or the median iteration of each span added up (MVAR: the block once, each neighbourhood
 * scale once, the tokens one VAR iteration predicts).
 *
 * <p>Memory ({@link Gauge}): on the CPU the peak resident set during the timed cycles (reset after
 * the warm-up) above the resident set after the engine started and before the model was built; on a
 * GPU the device memory the process holds after all cycles (the caching allocator keeps its peak)
 * above what it held before the model existed. Weights, gradients, optimizer state and the largest
 * iteration's activations either way.
 *
 * <p>Started by a launcher (mpirun, {@link ai.mvar.train.distributed.LocalLauncher}) it runs as one
 * rank of a data-parallel job: {@code batch} is then the whole batch, each rank trains its shard,
 * and rank 0 reports (the ranks step together, so its time is the job's).
 *
 * <p>Usage: {@code TrainingProbe <VAR|MVAR> <depth> <width> <heads> <batch> <cycles> <ratio_k>
 * <patch_nums,...> <refine_step> <kernel> <vocab> <Cvae> [<cpu|gpuN> [<FP32|FP16>]]}.
 */
public final class TrainingProbe {
    private TrainingProbe() {}

    /** The task's settings. */
    public record Task(Mode mode, int depth, int width, int heads, int batch, int cycles, int ratioK, String patchNums,
            int refineStep, int kernel, int vocab, int latent, String device, Precision precision) {

        /** On the CPU in fp32. */
        public Task(Mode mode, int depth, int width, int heads, int batch, int cycles, int ratioK, String patchNums,
                int refineStep, int kernel, int vocab, int latent) {
            this(mode, depth, width, heads, batch, cycles, ratioK, patchNums, refineStep, kernel, vocab, latent, "cpu",
                    Precision.FP32);
        }

        List<String> args() {
            return List.of(mode.name(), str(depth), str(width), str(heads), str(batch), str(cycles), str(ratioK), patchNums,
                    str(refineStep), str(kernel), str(vocab), str(latent), device, precision.name());
        }

        static Task parse(String[] a) {
            return new Task(Mode.valueOf(a[0]), Integer.parseInt(a[1]), Integer.parseInt(a[2]), Integer.parseInt(a[3]),
                    Integer.parseInt(a[4]), Integer.parseInt(a[5]), Integer.parseInt(a[6]), a[7], Integer.parseInt(a[8]),
                    Integer.parseInt(a[9]), Integer.parseInt(a[10]), Integer.parseInt(a[11]), a.length > 12 ? a[12] : "cpu",
                    a.length > 13 ? Precision.valueOf(a[13]) : Precision.FP32);
        }

        public Task withMode(Mode m) {
            return new Task(m, depth, width, heads, batch, cycles, ratioK, patchNums, refineStep, kernel, vocab, latent,
                    device, precision);
        }

        ScaleSchedule schedule() {
            return new ScaleSchedule(Arrays.stream(patchNums.split(",")).mapToInt(Integer::parseInt).toArray());
        }

        /** Iterations per cycle: 1 for VAR, {@code ratio_k} + the neighbourhood scales for MVAR. */
        public int period() {
            return mode == Mode.VAR ? 1 : ratioK + schedule().scales() - refineStep;
        }

        private static String str(int v) {
            return Integer.toString(v);
        }
    }

    public static void main(String[] args) throws IOException {
        Task task = Task.parse(args);
        Device device = Torch.device(task.device());
        Optional<LaunchEnvironment> launch = LaunchEnvironment.detect(System.getenv());
        try (ProcessGroup group = launch.isPresent()
                ? DataParallel.join(launch.get(), device, Backend.forDevice(device), DataParallel.Timeouts.standard())
                : ProcessGroup.single()) {
            Measurement m = measure(task, group);
            if (group.rank() == 0) {
                System.out.println(m.toLine());
            }
        }
    }

    static Measurement measure(Task task, ProcessGroup group) {
        ScaleSchedule schedule = task.schedule();
        TransformerConfig config = new TransformerConfig(task.depth(), task.width(), task.heads(), task.vocab(), 1000,
                task.latent(), schedule, task.refineStep(), task.kernel(), true, 4.0);
        // The teacher input only needs the quantizer: the smallest encoder and decoder do.
        VqVaeConfig vaeConfig = new VqVaeConfig(task.vocab(), task.latent(), 32, new int[] {1}, 1, 4, 0.5f, schedule);
        Device device = Torch.device(task.device());
        Gauge gauge = Gauge.of(device);
        try (NDManager m = Torch.newManager(device)) {
            long baseline = gauge.beforeModel(m);
            TransformerTrainer.Config trainerConfig = TransformerTrainer.Config.reference(task.mode(), 3)
                    .withRatioK(task.ratioK()).withPrecision(task.precision());
            try (VqVae vae = VqVae.initialise(vaeConfig, InitParams.forBenchmark(m, device, 2));
                    Transformer model = Transformer.initialise(config, InitParams.forBenchmark(m, device, 1), Precision.FP32);
                    TransformerTrainer trainer = new TransformerTrainer(model, vae, trainerConfig, group,
                            GradientReducer.DEFAULT_BUCKET_BYTES)) {
                TokenBatch batch = randomBatch(m, config, trainer.shard().size(task.batch()));
                int period = trainer.spans().period();
                cycle(trainer, batch, task.batch(), period, gauge, null); // warm-up
                gauge.settle(); // what the warm-up freed must not hide the cycles' needs
                gauge.resetPeak();
                Map<ScaleSpans.Span, List<Double>> bySpan = new LinkedHashMap<>();
                double[] ms = new double[task.cycles()];
                for (int c = 0; c < ms.length; c++) {
                    ms[c] = cycle(trainer, batch, task.batch(), period, gauge, bySpan);
                }
                long peak = gauge.peak() - baseline;
                if (group.rank() == 0) {
                    System.out.println("PROBE " + json(task, ms, bySpan, baseline, peak, gauge, model, m));
                }
                return new Measurement(Measurement.median(ms), peak);
            }
        }
    }

    /**
     * One cycle on this rank's {@code shard} of a batch of {@code batch}; its milliseconds, each
     * iteration's added to {@code bySpan} when given.
     */
    private static double cycle(TransformerTrainer trainer, TokenBatch shard, int batch, int period, Gauge gauge,
            Map<ScaleSpans.Span, List<Double>> bySpan) {
        double total = 0;
        for (int i = 0; i < period; i++) {
            gauge.sync();
            long t0 = System.nanoTime();
            TransformerTrainer.StepResult r = trainer.step(shard, batch, 1e-4);
            gauge.sync();
            double ms = (System.nanoTime() - t0) / 1e6;
            total += ms;
            if (bySpan != null) {
                bySpan.computeIfAbsent(r.span(), s -> new ArrayList<>()).add(ms);
            }
        }
        return total;
    }

    private static JsonObject json(Task task, double[] cycles, Map<ScaleSpans.Span, List<Double>> bySpan, long baseline,
            long peak, Gauge gauge, Transformer model, NDManager m) {
        double mib = 1024.0 * 1024.0;
        JsonObject o = new JsonObject();
        o.addProperty("mode", task.mode().name());
        o.addProperty("device", task.device());
        o.addProperty("precision", task.precision().toString());
        o.addProperty("batch", task.batch());
        o.addProperty("depth", task.depth());
        o.addProperty("ratio_k", task.ratioK());
        o.addProperty("patch_nums", task.patchNums());
        o.addProperty("cycle_ms", Measurement.median(cycles));
        JsonObject spans = new JsonObject();
        List<Double> all = new ArrayList<>();
        double pass = 0;
        for (Map.Entry<ScaleSpans.Span, List<Double>> e : bySpan.entrySet()) {
            double median = Measurement.median(e.getValue().stream().mapToDouble(Double::doubleValue).toArray());
            spans.addProperty(e.getKey().from() + "-" + e.getKey().to(), median);
            pass += median;
            all.addAll(e.getValue());
        }
        o.add("span_ms", spans);
        o.addProperty("iteration_ms", Measurement.median(all.stream().mapToDouble(Double::doubleValue).toArray()));
        o.addProperty("pass_ms", pass);
        JsonArray warm = new JsonArray();
        Arrays.stream(cycles).forEach(warm::add);
        o.add("cycles_ms", warm);
        o.addProperty("before_model_mib", baseline / mib);
        o.addProperty("peak_over_context_mib", peak / mib);
        o.addProperty("memory_source", gauge.source());
        o.addProperty("parameters", model.weights().tensors().values().stream().mapToLong(w -> w.getShape().size()).sum());
        o.addProperty("neighbourhood_kernel", kernelUnderAutograd(model.config(), task, m));
        return o;
    }

    /** The kernel MVAR's finest scale trains on (gradients recorded), for the record. */
    private static String kernelUnderAutograd(TransformerConfig c, Task task, NDManager m) {
        if (task.mode() != Mode.MVAR || c.refineStep() >= c.schedule().scales()) {
            return "none";
        }
        int side = c.schedule().side(c.schedule().scales() - 1);
        try (NDArray q = m.zeros(new Shape(1, c.heads(), (long) side * side, c.headDim()), task.precision().dataType());
                GradientCollector gc = Torch.engine().newGradientCollector()) {
            return NeighbourhoodAttention.kernelFor(q, c.kernelSize()).name();
        }
    }

    private static TokenBatch randomBatch(NDManager m, TransformerConfig config, int b) {
        SplittableRandom r = new SplittableRandom(5);
        ScaleSchedule s = config.schedule();
        List<NDArray> indices = new ArrayList<>();
        for (int k = 0; k < s.scales(); k++) {
            long[] idx = new long[b * s.tokens(k)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = r.nextInt(config.vocabSize());
            }
            indices.add(Tensors.of(m, idx, new Shape(b, s.tokens(k))));
        }
        long[] labels = new long[b];
        for (int i = 0; i < b; i++) {
            labels[i] = r.nextInt(config.classes());
        }
        return new TokenBatch(indices, Tensors.of(m, labels), null);
    }
}
