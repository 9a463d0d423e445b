package ai.mvar.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.mvar.attention.AttentionPattern;
import ai.mvar.attention.GatheredNeighbourhoodKernel;
import ai.mvar.attention.MaskedNeighbourhoodKernel;
import ai.mvar.attention.NeighbourhoodKernel;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.ProcessMemory;
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
 *       random weights, width 64 depth, V 4096, Cvae 32, cfg 1.5, top-k 900, top-p 0.96.
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
