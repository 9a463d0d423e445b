package ai.mvar.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.mvar.attention.NeighbourhoodAttention;
import ai.mvar.attention.NeighbourhoodTiling;
import ai.mvar.attention.TiledNeighbourhoodKernel;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import ai.mvar.config.PresetJson;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Functions;
import ai.mvar.nn.InitParams;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Torch;
import ai.mvar.sampling.Sampler;
import ai.mvar.sampling.SamplingOptions;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Locale;

/**
 * One benchmark task, run in its own JVM by {@link ForkedProbe}; prints {@code RESULT
 * <median ms> <cold peak bytes> <warm peak bytes> <with-weights bytes>} (see {@link Measurement}). Tasks:
 *
 * <ul>
 *   <li>{@code attention <auto|dense|RxC> <side> <k> <batch> <heads> <headDim> <reps> [<device>
 *       <fp32|fp16> <forward|backward>]}: one neighbourhood attention on a side x side map by {@link
 *       TiledNeighbourhoodKernel}, with the cost model's tile, one tile of the whole map (dense
 *       attention under the window mask), or R x C tiles; by default on the CPU in fp32, forward only;
 *       {@code backward}: the forward and its backward to q, k and v, the differentiable path training
 *       runs (what a fused backward would have to beat);
 *   <li>{@code sample <VAR|MVAR> <depth> <batch> <reps> <patch_nums,...>}: token generation with
 *       random weights, width 64 depth, V 4096, Cvae 32, cfg 1.5, top-k 900, top-p 0.96;
 *   <li>{@code preset key=value...}: a {@link GenerationTask}: generation for a preset on the CPU or
 *       a GPU in a given precision, with the weights of two model files or random ones (drawn by
 *       the engine on a GPU; the tokenizer's encoder and decoder shrink to one level unless the
 *       task decodes: generation uses only its quantizer). Also prints {@code PROBE <json>} with
 *       every reading.
 * </ul>
 *
 * <p>On a GPU, timing waits for the device before and after each run, and memory is the device
 * memory the process holds (a {@link DeviceMeter}); on the CPU it is the resident set.
 */
public final class Probe {
    private Probe() {}

    public static void main(String[] args) {
        Measurement m;
        switch (args[0]) {
            case "attention":
                m = attention(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                        Integer.parseInt(args[5]), Integer.parseInt(args[6]), Integer.parseInt(args[7]),
                        args.length > 8 ? args[8] : "cpu", args.length > 9 ? parsePrecision(args[9]) : Precision.FP32,
                        args.length > 10 && parsePass(args[10]));
                break;
            case "sample":
                m = sample(Mode.valueOf(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                        Integer.parseInt(args[4]), patchNums(args[5]));
                break;
            case "preset":
                m = preset(GenerationTask.parse(Arrays.asList(args)));
                break;
            default:
                throw new IllegalArgumentException("unknown probe task " + args[0]);
        }
        System.out.println(m.toLine());
    }

    /**
     * @param backward whether each run is the forward and the backward to q, k and v (of {@code
     *     sum(out * dout)}, {@code dout} drawn once), as a training step computes them, or the forward alone
     */
    private static Measurement attention(String kind, int side, int k, int batch, int heads, int dim, int reps,
            String deviceName, Precision precision, boolean backward) {
        Device device = Torch.device(deviceName);
        Gauge gauge = Gauge.of(device);
        try (NDManager manager = Torch.newManager(device)) {
            Shape shape = new Shape(batch, heads, (long) side * side, dim);
            NDArray q = manager.randomNormal(shape).toType(precision.dataType(), false);
            NDArray key = manager.randomNormal(shape).toType(precision.dataType(), false);
            NDArray v = manager.randomNormal(shape).toType(precision.dataType(), false);
            NDArray dout = manager.randomNormal(shape).toType(precision.dataType(), false);
            float scale = (float) (1 / Math.sqrt(dim));
            NeighbourhoodTiling tiling = tiling(kind, side, k, (long) batch * heads, dim, device.isGpu());
            TiledNeighbourhoodKernel kernel = TiledNeighbourhoodKernel.INSTANCE;
            Runnable run = () -> kernel.forward(q, key, v, side, k, scale, tiling);
            if (backward) {
                for (NDArray x : new NDArray[] {q, key, v}) {
                    x.setRequiresGradient(true);
                }
                run = () -> {
                    try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                        gc.backward(Functions.fp32(kernel.forward(q, key, v, side, k, scale, tiling).mul(dout)).sum());
                    }
                };
            }
            return measure(reps, gauge, run).measurement(-1);
        }
    }

    private static Precision parsePrecision(String name) {
        return Precision.valueOf(name.toUpperCase(Locale.ROOT)).requireSupported();
    }

    /** {@code forward} or {@code backward} (the forward and the backward). */
    private static boolean parsePass(String pass) {
        if (!pass.equals("forward") && !pass.equals("backward")) {
            throw new IllegalArgumentException("attention pass must be forward or backward, got " + pass);
        }
        return pass.equals("backward");
    }

    /** {@code auto}: the cost model's tile; {@code dense}: one tile, the whole map; {@code <rows>x<cols>}. */
    private static NeighbourhoodTiling tiling(String kind, int side, int k, long batchHeads, int dim, boolean gpu) {
        if (kind.equals("auto")) {
            return NeighbourhoodTiling.choose(side, k, batchHeads, dim, gpu);
        }
        if (kind.equals("dense")) {
            return new NeighbourhoodTiling(side, side);
        }
        String[] rc = kind.split("x");
        return new NeighbourhoodTiling(Integer.parseInt(rc[0]), Integer.parseInt(rc[1]));
    }

    private static Measurement sample(Mode mode, int depth, int batch, int reps, int[] patchNums) {
        ScaleSchedule schedule = new ScaleSchedule(patchNums);
        TransformerConfig config = new TransformerConfig(depth, 64 * depth, depth, 4096, 1000, 32, schedule,
                Math.min(8, schedule.scales()), 7, true, 4.0);
        try (NDManager manager = Torch.newManager();
                Transformer model = Transformer.random(config, manager, 1);
                VqVae vae = VqVae.random(new VqVaeConfig(4096, 32, 32, new int[] {1}, 1, 4, 0.5f, schedule), manager, 2)) {
            Sampler sampler = new Sampler(model, vae);
            long[] labels = new long[batch];
            for (int i = 0; i < batch; i++) {
                labels[i] = i % 1000;
            }
            SamplingOptions options = new SamplingOptions(mode, 1.5, 900, 0.96, 7);
            return measure(reps, () -> {
                try (NDManager run = manager.newSubManager()) {
                    sampler.generate(run.create(labels), options, s -> {}).close();
                }
            });
        }
    }

    private static Measurement preset(GenerationTask task) {
        Device device = Torch.device(task.device());
        Gauge gauge = Gauge.of(device);
        try (NDManager manager = Torch.newManager(device)) {
            long beforeModel = gauge.beforeModel(manager);
            Preset preset = PresetJson.read(task.preset());
            TransformerConfig t = task.depth() > 0 ? withDepth(preset.transformer(), task.depth()) : preset.transformer();
            VqVaeConfig v = preset.tokenizer();
            Transformer model;
            VqVae vae;
            if (!task.random()) {
                vae = ModelFile.read(task.tokenizer(), manager, ModelFile.Kind.TOKENIZER, preset).tokenizer();
                model = ModelFile.read(task.model(), manager, ModelFile.Kind.TRANSFORMER, preset).transformer(task.precision());
            } else {
                model = Transformer.initialise(t, InitParams.forBenchmark(manager, device, 1), task.precision());
                VqVaeConfig shape = task.decode() ? v : new VqVaeConfig(v.vocabSize(), v.latentChannels(), 32, new int[] {1}, 1,
                        v.phiCount(), v.phiRatio(), v.schedule());
                vae = VqVae.initialise(shape, InitParams.forBenchmark(manager, device, 2));
            }
            try (model; vae) {
                Sampler sampler = new Sampler(model, vae);
                long[] labels = new long[task.batch()];
                for (int i = 0; i < labels.length; i++) {
                    labels[i] = i % t.classes();
                }
                SamplingOptions options = new SamplingOptions(task.mode(), task.cfg(), task.topK(), task.topP(),
                        task.temperature(), 7);
                Run run = measure(task.reps(), gauge, () -> {
                    try (NDManager batch = manager.newSubManager()) {
                        NDArray l = batch.create(labels);
                        if (task.decode()) {
                            sampler.sample(l, options).close();
                        } else {
                            sampler.generate(l, options, s -> {}).close();
                        }
                    }
                });
                JsonObject json = run.json(beforeModel, gauge);
                json.addProperty("mode", task.mode().name());
                json.addProperty("device", task.device());
                json.addProperty("precision", task.precision().toString());
                json.addProperty("batch", task.batch());
                json.addProperty("depth", t.depth());
                json.addProperty("decode", task.decode());
                json.addProperty("parameters", model.weights().tensors().values().stream().mapToLong(w -> w.getShape().size()).sum());
                json.addProperty("neighbourhood_kernel", kernelName(model, manager, task));
                System.out.println("PROBE " + json);
                return run.measurement(beforeModel);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The kernel MVAR's neighbourhood scales ran on, for the record. */
    private static String kernelName(Transformer model, NDManager manager, GenerationTask task) {
        TransformerConfig c = model.config();
        if (task.mode() != Mode.MVAR || c.refineStep() >= c.schedule().scales()) {
            return "none";
        }
        int side = c.schedule().side(c.schedule().scales() - 1);
        try (NDArray q = manager.zeros(new Shape(1, c.heads(), (long) side * side, c.headDim()), task.precision().dataType())) {
            return NeighbourhoodAttention.kernelFor(q, c.kernelSize()).name();
        }
    }

    /** The same transformer with another depth (width, heads and everything else unchanged). */
    public static TransformerConfig withDepth(TransformerConfig t, int depth) {
        return new TransformerConfig(depth, t.width(), t.heads(), t.vocabSize(), t.classes(), t.latentChannels(),
                t.schedule(), t.refineStep(), t.kernelSize(), t.attnL2Norm(), t.mlpRatio());
    }

    /** The first run measures the cold peak memory, the next {@code reps} the median time and the warm peak. */
    private static Measurement measure(int reps, Runnable task) {
        Gauge gauge = Gauge.of(Device.cpu());
        return measure(reps, gauge, task).measurement(-1);
    }

    /**
     * Before each run the gauge settles (on the CPU the C heap is trimmed, so memory freed by
     * building the model or by an earlier run cannot hide what this run needs) and its peak restarts.
     */
    private static Run measure(int reps, Gauge gauge, Runnable task) {
        long base = 0;
        long peak = 0;
        long warmPeak = gauge.peaksPerRun() ? 0 : -1;
        double coldMs = 0;
        double[] ms = new double[reps];
        for (int i = 0; i <= reps; i++) {
            gauge.sync();
            gauge.settle();
            long before = gauge.held();
            gauge.resetPeak();
            long t0 = System.nanoTime();
            inScope(task);
            gauge.sync();
            double elapsed = (System.nanoTime() - t0) / 1e6;
            long most = gauge.peak();
            if (i == 0) {
                coldMs = elapsed;
                base = before;
                peak = most;
            } else {
                ms[i - 1] = elapsed;
                if (gauge.peaksPerRun()) {
                    warmPeak = Math.max(warmPeak, most - before);
                }
            }
        }
        return new Run(coldMs, ms, base, peak, warmPeak);
    }

    /**
     * Times and memory readings of one task.
     *
     * @param base memory held with the weights loaded, before the cold run
     * @param peak the most held during the cold run
     * @param warmPeak the largest rise of a warm run over what it started with, or -1
     */
    private record Run(double coldMs, double[] ms, long base, long peak, long warmPeak) {
        /** @param beforeModel memory held before the model loaded, or -1 when not read */
        Measurement measurement(long beforeModel) {
            return new Measurement(Measurement.median(ms), peak - base, warmPeak, beforeModel < 0 ? -1 : peak - beforeModel);
        }

        JsonObject json(long beforeModel, Gauge gauge) {
            double mib = 1024.0 * 1024.0;
            JsonObject o = new JsonObject();
            o.addProperty("median_ms", Measurement.median(ms));
            o.addProperty("cold_ms", coldMs);
            JsonArray warm = new JsonArray();
            for (double m : ms) {
                warm.add(m);
            }
            o.add("warm_ms", warm);
            o.addProperty("before_model_mib", beforeModel / mib);
            o.addProperty("with_weights_mib", base / mib);
            o.addProperty("peak_mib", peak / mib);
            o.addProperty("peak_rise_mib", (peak - base) / mib);
            o.addProperty("warm_peak_rise_mib", warmPeak < 0 ? null : warmPeak / mib);
            o.addProperty("peak_over_context_mib", (peak - beforeModel) / mib);
            o.addProperty("memory_source", gauge.source());
            return o;
        }
    }

    private static void inScope(Runnable task) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            task.run();
        }
    }

    private static int[] patchNums(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
