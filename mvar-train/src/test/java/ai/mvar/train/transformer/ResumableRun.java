package ai.mvar.train.transformer;

import ai.djl.Device;
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
import ai.mvar.train.distributed.Backend;
import ai.mvar.train.distributed.DataParallel;
import ai.mvar.train.distributed.GradientReducer;
import ai.mvar.train.distributed.LaunchEnvironment;
import ai.mvar.train.distributed.ProcessGroup;
import ai.mvar.train.tokenizer.TokenizerJob;
import ai.mvar.train.tokenizer.TokenizerTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * A deterministic tiny training through {@link TrainingLoop}, run as a child JVM by {@link
 * SigkillResumeTest} and {@link DataParallelTrainingTest}: VAR or MVAR through {@link
 * TransformerJob}, in one process or as one rank of a job when a launcher started it ({@link
 * LaunchEnvironment}; MPI on the CPU), in fp32 or in fp16 from a loss scale that overflows (so the
 * run skips steps and carries the scale over a resume), or the tokenizer with the adversarial loss
 * and a weight average through {@link TokenizerJob}. Every step sleeps {@code delayMs} after training (the
 * computation is unchanged), so the parent can kill it between two checkpoints. The transformer
 * scores its own token cache as held-out data at every checkpoint (the checks are of the held-out
 * log's bookkeeping, not of generalisation). Each process writes
 * {@code rank-<r>.pid} into the run folder first.
 *
 * <p>Usage: {@code ResumableRun <out dir> <token cache> <steps> <checkpoint every> <delay ms>
 * <var|mvar|mvar-fp16|tokenizer> <batch> [<cpu|gpuN> <MPI|NCCL>]} (default cpu, MPI).
 */
public final class ResumableRun {
    static final long SEED = 17;

    private ResumableRun() {}

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Path tokens = Path.of(args[1]);
        long steps = Long.parseLong(args[2]);
        int checkpointEvery = Integer.parseInt(args[3]);
        long delayMs = Long.parseLong(args[4]);
        String kind = args[5];
        int batch = Integer.parseInt(args[6]);
        Device device = Torch.device(args.length > 7 ? args[7] : "cpu");
        Backend backend = args.length > 8 ? Backend.valueOf(args[8]) : Backend.MPI;
        TrainingLoop.Options options = new TrainingLoop.Options(steps, LrSchedule.of(LrSchedule.Shape.COSINE, 3e-3, 3,
                steps), checkpointEvery, 100, 1000);
        Optional<LaunchEnvironment> launch = LaunchEnvironment.detect(System.getenv());
        try (ProcessGroup group = launch.isPresent()
                        ? DataParallel.join(launch.get(), device, backend, DataParallel.Timeouts.standard())
                        : ProcessGroup.single();
                NDManager m = Torch.newManager(device);
                VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            Files.createDirectories(out);
            Files.writeString(out.resolve("rank-" + group.rank() + ".pid"), Long.toString(ProcessHandle.current().pid()));
            if (kind.equals("tokenizer")) {
                TokenizerTrainer.Config config = TokenizerTrainer.Config.defaults(SEED).withReseedEvery(5)
                        .withAdversarial(new TokenizerTrainer.Adversarial(0.8, 3, 8)).withEma(0.9);
                try (TokenizerTrainer trainer = new TokenizerTrainer(vae, config)) {
                    run(new TokenizerJob(trainer, TinyModels.randomImages(24, 16, 3), batch, SEED, true, m), options, out,
                            delayMs, m, group);
                }
                return;
            }
            Precision precision = kind.endsWith("-fp16") ? Precision.FP16 : Precision.FP32;
            Mode mode = Mode.valueOf(kind.replace("-fp16", "").toUpperCase(Locale.ROOT));
            TransformerTrainer.Config config = TransformerTrainer.Config.reference(mode, SEED).withRatioK(1)
                    .withLabelSmoothing(0.1).withPrecision(precision)
                    .withLossScaling(new GradScaler.Config(Math.pow(2, 26), 2, 0.5, 3, Double.POSITIVE_INFINITY));
            try (TokenCache cache = TokenCache.open(tokens);
                    Transformer master = Transformer.random(TinyModels.transformer(), m, SEED);
                    TransformerTrainer trainer = new TransformerTrainer(master, vae, config, group,
                            GradientReducer.DEFAULT_BUCKET_BYTES)) {
                run(new TransformerJob(trainer, cache, batch, SEED, true, cache, m), options, out, delayMs, m, group);
            }
        }
    }

    private static void run(TrainingLoop.Job job, TrainingLoop.Options options, Path out, long delayMs, NDManager m,
            ProcessGroup group) throws IOException {
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
            public Optional<StepMetrics> heldOut(long step, double lr) throws IOException {
                return job.heldOut(step, lr);
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
        TrainingLoop.Result r = TrainingLoop.run(slow, options, out, "resume test", m, group);
        if (group.rank() == 0) {
            System.out.println("DONE " + r.step() + " resumed from " + r.resumedFrom());
        }
    }
}
