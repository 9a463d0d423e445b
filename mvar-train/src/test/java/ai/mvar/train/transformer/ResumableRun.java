package ai.mvar.train.transformer;

import ai.djl.ndarray.NDManager;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.GradScaler;
import ai.mvar.train.LrSchedule;
import ai.mvar.train.StepMetrics;
import ai.mvar.train.TinyModels;
import ai.mvar.train.TrainingLoop;
import ai.mvar.train.TrainingState;
import ai.mvar.train.data.TokenCache;
import ai.mvar.train.tokenizer.TokenizerJob;
import ai.mvar.train.tokenizer.TokenizerTrainer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A deterministic tiny training through {@link TrainingLoop}, run as a child JVM by {@link
 * SigkillResumeTest}: MVAR through {@link TransformerJob} (in fp32, or in fp16 from a loss scale that
 * overflows, so the run skips steps and carries the scale over a resume), or the tokenizer with the adversarial
 * loss and a weight average through {@link TokenizerJob}. Every step sleeps {@code delayMs} after
 * training (the computation is unchanged), so the parent can kill it between two checkpoints.
 *
 * <p>Usage: {@code ResumableRun <out dir> <token cache> <steps> <checkpoint every> <delay ms> <mvar|mvar-fp16|tokenizer>}.
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
        TrainingLoop.Options options = new TrainingLoop.Options(steps, LrSchedule.of(LrSchedule.Shape.COSINE, 3e-3, 3,
                steps), checkpointEvery, 100, 1000);
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            if (args[5].equals("tokenizer")) {
                TokenizerTrainer.Config config = TokenizerTrainer.Config.defaults(SEED).withReseedEvery(5)
                        .withAdversarial(new TokenizerTrainer.Adversarial(0.8, 3, 8)).withEma(0.9);
                try (TokenizerTrainer trainer = new TokenizerTrainer(vae, config)) {
                    run(new TokenizerJob(trainer, TinyModels.randomImages(24, 16, 3), BATCH, SEED, true, m), options, out,
                            delayMs, m);
                }
                return;
            }
            Precision precision = args[5].equals("mvar-fp16") ? Precision.FP16 : Precision.FP32;
            TransformerTrainer.Config config = TransformerTrainer.Config.reference(Mode.MVAR, SEED).withRatioK(1)
                    .withLabelSmoothing(0.1).withPrecision(precision)
                    .withLossScaling(new GradScaler.Config(Math.pow(2, 26), 2, 0.5, 3, Double.POSITIVE_INFINITY));
            try (TokenCache cache = TokenCache.open(tokens);
                    Transformer master = Transformer.random(TinyModels.transformer(), m, SEED);
                    TransformerTrainer trainer = new TransformerTrainer(master, vae, config)) {
                run(new TransformerJob(trainer, cache, BATCH, SEED, true, m), options, out, delayMs, m);
            }
        }
    }

    private static void run(TrainingLoop.Job job, TrainingLoop.Options options, Path out, long delayMs, NDManager m)
            throws IOException {
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
        TrainingLoop.Result r = TrainingLoop.run(slow, options, out, "resume test", m);
        System.out.println("DONE " + r.step() + " resumed from " + r.resumedFrom());
    }
}
