package ai.mvar.train.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.bench.Measurement;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.ProcessMemory;
import ai.mvar.nn.Tensors;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import ai.mvar.train.transformer.TransformerTrainer;
import ai.mvar.train.data.TokenCache.TokenBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One training benchmark task, run in its own JVM by {@link ai.mvar.bench.ForkedProbe}: a
 * transformer with random weights trained on random tokens for whole cycles of its mode's scale
 * spans (VAR: one iteration over the whole pyramid; MVAR: {@code ratio_k} iterations on the
 * scale-Markov block, then one per neighbourhood scale). Prints {@code RESULT <median ms per cycle>
 * <peak bytes>}.
 *
 * <p>One warm-up cycle runs first; then the peak resident set is reset and {@code cycles} cycles are
 * timed. The peak is the highest resident set during the timed cycles above the resident set after
 * the engine started and before the model was built: weights, gradients, optimizer state and the
 * largest iteration's activations.
 *
 * <p>Usage: {@code TrainingProbe <VAR|MVAR> <depth> <width> <heads> <batch> <cycles> <ratio_k>
 * <patch_nums,...> <refine_step> <kernel> <vocab> <Cvae>}.
 */
public final class TrainingProbe {
    private TrainingProbe() {}

    /** The task's settings. */
    public record Task(Mode mode, int depth, int width, int heads, int batch, int cycles, int ratioK, String patchNums,
            int refineStep, int kernel, int vocab, int latent) {

        List<String> args() {
            return List.of(mode.name(), str(depth), str(width), str(heads), str(batch), str(cycles), str(ratioK), patchNums,
                    str(refineStep), str(kernel), str(vocab), str(latent));
        }

        static Task parse(String[] a) {
            return new Task(Mode.valueOf(a[0]), Integer.parseInt(a[1]), Integer.parseInt(a[2]), Integer.parseInt(a[3]),
                    Integer.parseInt(a[4]), Integer.parseInt(a[5]), Integer.parseInt(a[6]), a[7], Integer.parseInt(a[8]),
                    Integer.parseInt(a[9]), Integer.parseInt(a[10]), Integer.parseInt(a[11]));
        }

        public Task withMode(Mode m) {
            return new Task(m, depth, width, heads, batch, cycles, ratioK, patchNums, refineStep, kernel, vocab, latent);
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

    public static void main(String[] args) {
        System.out.println(measure(Task.parse(args)).toLine());
    }

    static Measurement measure(Task task) {
        ScaleSchedule schedule = task.schedule();
        TransformerConfig config = new TransformerConfig(task.depth(), task.width(), task.heads(), task.vocab(), 1000,
                task.latent(), schedule, task.refineStep(), task.kernel(), true, 4.0);
        // The teacher input only needs the quantizer: the smallest encoder and decoder do.
        VqVaeConfig vaeConfig = new VqVaeConfig(task.vocab(), task.latent(), 32, new int[] {1}, 1, 4, 0.5f, schedule);
        try (NDManager m = Torch.newManager()) {
            long baseline = ProcessMemory.residentBytes();
            try (VqVae vae = VqVae.random(vaeConfig, m, 2);
                    Transformer model = Transformer.random(config, m, 1);
                    TransformerTrainer trainer = new TransformerTrainer(model, vae,
                            TransformerTrainer.Config.reference(task.mode(), 3).withRatioK(task.ratioK()))) {
                TokenBatch batch = randomBatch(m, config, task.batch());
                int period = trainer.spans().period();
                cycle(trainer, batch, period); // warm-up
                ProcessMemory.trimNativeHeap(); // what the warm-up freed must not hide the cycles' needs
                ProcessMemory.resetPeak();
                double[] ms = new double[task.cycles()];
                for (int c = 0; c < ms.length; c++) {
                    long t0 = System.nanoTime();
                    cycle(trainer, batch, period);
                    ms[c] = (System.nanoTime() - t0) / 1e6;
                }
                long peak = ProcessMemory.peakResidentBytes() - baseline;
                return new Measurement(Measurement.median(ms), peak);
            }
        }
    }

    private static void cycle(TransformerTrainer trainer, TokenBatch batch, int period) {
        for (int i = 0; i < period; i++) {
            trainer.step(batch, 1e-4);
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
