package ai.mvar.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.mvar.attention.AttentionPattern;
import ai.mvar.attention.GatheredNeighbourhoodKernel;
import ai.mvar.attention.MaskedNeighbourhoodKernel;
import ai.mvar.attention.NeighbourhoodKernel;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.InitParams;
import ai.mvar.nn.Precision;
import ai.mvar.nn.ProcessMemory;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.sampling.Sampler;
import ai.mvar.sampling.SamplingOptions;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import java.util.Arrays;

/**
 * One benchmark task, run in its own JVM by {@link ForkedProbe}; prints {@code RESULT
 * <median ms> <peak bytes>}. Tasks:
 *
 * <ul>
 *   <li>{@code attention <neighbourhood|dense> <side> <k> <batch> <heads> <headDim> <reps>}: one
 *       neighbourhood attention on a side x side map, or the same pattern as a dense masked attention;
 *   <li>{@code sample <VAR|MVAR> <depth> <batch> <reps> <patch_nums,...>}: token generation with
 *       random weights, width 64 depth, V 4096, Cvae 32, cfg 1.5, top-k 900, top-p 0.96;
 *   <li>{@code preset <VAR|MVAR> <preset.json> <batch> <reps> <cfg> <topK> <topP> <depth|0> <precision>
 *       [tokenizer model]}: token generation for a preset (depth overridden unless 0) in the given
 *       precision, with the weights of the two model files or, without them, random weights (the
 *       tokenizer's encoder and decoder then shrink to one level: generation uses only its quantizer).
 * </ul>
 */
public final class Probe {
    private Probe() {}

    public static void main(String[] args) {
        Measurement m;
        switch (args[0]) {
            case "attention":
                m = attention(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                        Integer.parseInt(args[5]), Integer.parseInt(args[6]), Integer.parseInt(args[7]));
                break;
            case "sample":
                m = sample(Mode.valueOf(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                        Integer.parseInt(args[4]), patchNums(args[5]));
                break;
            case "preset":
                m = preset(Mode.valueOf(args[1]), java.nio.file.Path.of(args[2]), Integer.parseInt(args[3]),
                        Integer.parseInt(args[4]), Double.parseDouble(args[5]), Integer.parseInt(args[6]),
                        Double.parseDouble(args[7]), Integer.parseInt(args[8]), Precision.valueOf(args[9]),
                        args.length > 11 ? java.nio.file.Path.of(args[10]) : null,
                        args.length > 11 ? java.nio.file.Path.of(args[11]) : null);
                break;
            default:
                throw new IllegalArgumentException("unknown probe task " + args[0]);
        }
        System.out.println(m.toLine());
    }

    private static Measurement attention(String kind, int side, int k, int batch, int heads, int dim, int reps) {
        try (NDManager manager = Torch.newManager()) {
            Shape shape = new Shape(batch, heads, (long) side * side, dim);
            NDArray q = manager.randomNormal(shape);
            NDArray key = manager.randomNormal(shape);
            NDArray v = manager.randomNormal(shape);
            float scale = (float) (1 / Math.sqrt(dim));
            NeighbourhoodKernel kernel = kind.equals("dense")
                    ? MaskedNeighbourhoodKernel.INSTANCE // the same pattern as an N x N mask
                    : GatheredNeighbourhoodKernel.INSTANCE;
            AttentionPattern pattern = (q1, k1, v1, s1) -> kernel.forward(q1, k1, v1, side, k, s1);
            return measure(reps, () -> pattern.attend(q, key, v, scale).toFloatArray());
        }
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

    private static Measurement preset(Mode mode, java.nio.file.Path presetFile, int batch, int reps, double cfg,
            int topK, double topP, int depth, Precision precision, java.nio.file.Path tokenizerFile,
            java.nio.file.Path modelFile) {
        try (NDManager manager = Torch.newManager()) {
            ai.mvar.config.Preset preset = ai.mvar.config.PresetJson.read(presetFile);
            TransformerConfig t = preset.transformer();
            if (depth > 0) {
                t = withDepth(t, depth);
            }
            VqVaeConfig v = preset.tokenizer();
            Transformer model;
            VqVae vae;
            if (modelFile != null) {
                vae = ModelFile.read(tokenizerFile, manager, ModelFile.Kind.TOKENIZER, preset).tokenizer();
                model = ModelFile.read(modelFile, manager, ModelFile.Kind.TRANSFORMER, preset).transformer(precision);
            } else {
                model = Transformer.initialise(t, new InitParams(new StateDict(manager.newSubManager(), "random"), 1),
                        precision);
                vae = VqVae.random(new VqVaeConfig(v.vocabSize(), v.latentChannels(), 32, new int[] {1}, 1, v.phiCount(),
                        v.phiRatio(), v.schedule()), manager, 2);
            }
            try (model; vae) {
                Sampler sampler = new Sampler(model, vae);
                long[] labels = new long[batch];
                for (int i = 0; i < batch; i++) {
                    labels[i] = i % t.classes();
                }
                SamplingOptions options = new SamplingOptions(mode, cfg, topK, topP, 7);
                return measure(reps, () -> {
                    try (NDManager run = manager.newSubManager()) {
                        sampler.generate(run.create(labels), options, s -> {}).close();
                    }
                });
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The same transformer with another depth (width, heads and everything else unchanged). */
    public static TransformerConfig withDepth(TransformerConfig t, int depth) {
        return new TransformerConfig(depth, t.width(), t.heads(), t.vocabSize(), t.classes(), t.latentChannels(),
                t.schedule(), t.refineStep(), t.kernelSize(), t.attnL2Norm(), t.mlpRatio());
    }

    /** The first run measures peak memory (cold), the next {@code reps} the median time. */
    private static Measurement measure(int reps, Runnable task) {
        long before = ProcessMemory.residentBytes();
        ProcessMemory.resetPeak();
        inScope(task);
        long peak = ProcessMemory.peakResidentBytes() - before;
        double[] ms = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            inScope(task);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return new Measurement(ms[reps / 2], peak);
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
