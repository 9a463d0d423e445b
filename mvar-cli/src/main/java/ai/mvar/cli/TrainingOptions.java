package ai.mvar.cli;

import ai.mvar.train.LrSchedule;
import ai.mvar.train.TrainingLoop;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options every training command shares: the run folder, length, batch, learning rate and checkpoints. */
final class TrainingOptions {
    @Option(names = {"-o", "--out"}, required = true, paramLabel = "<folder>",
            description = "run folder: checkpoints/, metrics.jsonl, loss.png, the trained model")
    Path out;

    @Option(names = "--steps", defaultValue = "3000", description = "training iterations (default ${DEFAULT-VALUE})")
    long steps;

    @Mixin
    BatchOption batch = new BatchOption(64);

    @Option(names = "--lr", defaultValue = "1e-3", description = "peak learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--warmup", defaultValue = "100", description = "warm-up iterations (default ${DEFAULT-VALUE})")
    long warmup;

    @Option(names = "--lr-schedule", defaultValue = "COSINE",
            description = "annealing after warm-up: LIN0 (VAR's recipe) or COSINE (default ${DEFAULT-VALUE})")
    LrSchedule.Shape schedule;

    @Option(names = "--no-flip", description = "no random horizontal flips")
    boolean noFlip;

    @Option(names = "--seed", defaultValue = "0", description = "seeds initialisation, data order and dropout (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "200", description = "checkpoint interval in steps (default ${DEFAULT-VALUE})")
    int checkpointEvery;

    @Option(names = "--keep", defaultValue = "3", description = "checkpoints kept (default ${DEFAULT-VALUE})")
    int keep;

    TrainingLoop.Options loopOptions() {
        return new TrainingLoop.Options(steps, LrSchedule.of(schedule, lr, warmup, steps), checkpointEvery, keep, 50);
    }
}
