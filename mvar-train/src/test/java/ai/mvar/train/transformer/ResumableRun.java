package ai.mvar.train.transformer;

import ai.djl.ndarray.NDManager;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.LrSchedule;
import ai.mvar.train.StepMetrics;
import ai.mvar.train.TinyModels;
import ai.mvar.train.TrainingLoop;
import ai.mvar.train.TrainingState;
import ai.mvar.train.data.TokenCache;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A deterministic tiny MVAR training through {@link TrainingLoop} and {@link TransformerJob}, run as
 * a child JVM by {@link SigkillResumeTest}. Every step sleeps {@code delayMs} after training (the
 * computation is unchanged), so the parent can kill it between two checkpoints.
 *
 * <p>Usage: {@code ResumableRun <out dir> <token cache> <steps> <checkpoint every> <delay ms>}.
 */
public final class ResumableRun {
    static final long SEED = 17;
    static final int BATCH = 4;

    private ResumableRun() {}

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Path tokens = Path.of(args[1]);
        long steps = Long.parseLong(args[2]);
        int checkpointEvery = Integer.parseInt(args[3]);
        long delayMs = Long.parseLong(args[4]);
        TransformerTrainer.Config config = TransformerTrainer.Config.reference(Mode.MVAR, SEED).withRatioK(1)
                .withLabelSmoothing(0.1);
        try (NDManager m = Torch.newManager();
                TokenCache cache = TokenCache.open(tokens);
                VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5);
                Transformer master = Transformer.random(TinyModels.transformer(), m, SEED);
                TransformerTrainer trainer = new TransformerTrainer(master, vae, config)) {
            TrainingLoop.Job job = new TransformerJob(trainer, cache, BATCH, SEED, true, m);
            TrainingLoop.Job slow = new TrainingLoop.Job() {
                @Override
                public StepMetrics step(long iteration, double lr) throws IOException {
                    StepMetrics r = job.step(iteration, lr);
                    try {
                        Thread.sleep(delayMs);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return r;
                }

                @Override
                public TrainingState snapshot() {
                    return job.snapshot();
                }

                @Override
                public void restore(TrainingState state) throws IOException {
                    job.restore(state);
                }
            };
            TrainingLoop.Options options = new TrainingLoop.Options(steps, LrSchedule.of(LrSchedule.Shape.COSINE, 3e-3, 3,
                    steps), checkpointEvery, 100, 1000);
            TrainingLoop.Result r = TrainingLoop.run(slow, options, out, "resume test", m);
            System.out.println("DONE " + r.step() + " resumed from " + r.resumedFrom());
        }
    }
}
