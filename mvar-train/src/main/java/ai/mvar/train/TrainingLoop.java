package ai.mvar.train;

import ai.djl.ndarray.NDManager;
import ai.mvar.train.distributed.ProcessGroup;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a training job to a fixed number of steps in an output folder, safe to kill at any moment:
 *
 * <ul>
 *   <li>{@code checkpoints/}: a {@link TrainingCheckpoint} every {@code checkpointEvery} steps and at
 *       the end; a run started on a folder that has one continues from the newest good one, with
 *       weights, optimizer, schedule, generators and data position restored;
 *   <li>{@code metrics.jsonl}: one line per step (per-scale loss and accuracy); lines past the
 *       checkpoint a resumed run starts from are dropped, so the log matches the weights;
 *   <li>{@code held_out.jsonl}: for a job that scores held-out data ({@link Job#heldOut}), one line
 *       per checkpoint, in the same format, after the checkpoint is saved;
 *   <li>{@code loss.png}: the curves (the held-out loss among them), redrawn every {@code plotEvery}
 *       steps and at the end;
 *   <li>a progress bar with rate and ETA on stderr.
 * </ul>
 *
 * A NaN or infinite loss stops the run with {@link NonFiniteLossException}; nothing is saved, so the
 * last good checkpoint stays as it was.
 */
public final class TrainingLoop {
    private static final Logger LOG = LoggerFactory.getLogger(TrainingLoop.class);

    /** One kind of training (tokenizer, transformer): draws its own batches. */
    public interface Job {
        /** Trains iteration {@code iteration} (0-based) at learning rate {@code lr}. */
        StepMetrics step(long iteration, double lr) throws IOException;

        /** Everything needed to continue after {@link #step} has completed {@code state.step()} iterations. */
        TrainingState snapshot();

        /** Continues from a snapshot. */
        void restore(TrainingState state) throws IOException;

        /**
         * The loss on data the job does not train on, after {@code step} iterations ({@code lr}: the
         * step's learning rate, for the log), or empty for a job without held-out data. Called on
         * every rank at every checkpoint; every rank returns the same result.
         */
        default Optional<StepMetrics> heldOut(long step, double lr) throws IOException {
            return Optional.empty();
        }

        /** The name of loss series {@code i} in the plot. */
        default String seriesName(int i) {
            return "scale " + i;
        }
    }

    /**
     * @param steps total iterations
     * @param lr the learning rate of each iteration
     * @param checkpointEvery save every this many steps (and always at the end)
     * @param keep checkpoints kept
     * @param plotEvery redraw {@code loss.png} every this many steps
     */
    public record Options(long steps, LrSchedule lr, int checkpointEvery, int keep, int plotEvery) {
        public Options {
            if (steps < 1 || checkpointEvery < 1 || keep < 1 || plotEvery < 1) {
                throw new IllegalArgumentException("invalid training options: " + this);
            }
        }
    }

    /** Where a run ended: its last step and the files it wrote. */
    public record Result(long step, long resumedFrom, Path lastCheckpoint, Path metrics, Path plot) {}

    private TrainingLoop() {}

    /** Runs (or resumes) {@code job} in {@code dir} up to {@code options.steps()}, in one process. */
    public static Result run(Job job, Options options, Path dir, String title, NDManager manager) throws IOException {
        return run(job, options, dir, title, manager, ProcessGroup.single());
    }

    /**
     * Runs (or resumes) {@code job} as one rank of {@code group}. Rank 0 writes the run folder
     * (checkpoints, metrics, plot) and shows progress; every rank resumes from the checkpoint rank 0
     * chooses, so the ranks continue in step. A failing step tells the other ranks before it throws.
     */
    public static Result run(Job job, Options options, Path dir, String title, NDManager manager, ProcessGroup group)
            throws IOException {
        boolean writer = group.rank() == 0;
        TrainingCheckpoint checkpoints = new TrainingCheckpoint(dir.resolve("checkpoints"), options.keep());
        Path metricsFile = dir.resolve("metrics.jsonl");
        Path plot = dir.resolve("loss.png");
        Path heldOutFile = dir.resolve("held_out.jsonl");
        long start;
        try (NDManager loaded = manager.newSubManager()) {
            Optional<TrainingState> saved = writer ? checkpoints.resume(loaded) : Optional.empty();
            start = group.broadcast(saved.map(TrainingState::step).orElse(-1L));
            if (!writer && start >= 0) {
                saved = Optional.of(checkpoints.load(start, loaded));
            }
            if (saved.isPresent()) {
                job.restore(saved.get());
                LOG.info("{}: resumed at step {} of {}", title, start, options.steps());
            }
            start = Math.max(start, 0);
        }
        Path last = checkpoints.checkpoints().stream().findFirst().orElse(null);
        if (start >= options.steps()) {
            return new Result(start, start, last, metricsFile, plot);
        }
        if (writer) {
            MetricsLog.truncateAfter(metricsFile, start);
            MetricsLog.truncateAfter(heldOutFile, start);
        }
        ProgressBar bar = writer ? ProgressBar.stderr(title, options.steps(), start) : null;
        try (MetricsLog log = writer ? new MetricsLog(metricsFile) : null) {
            for (long it = start; it < options.steps(); it++) {
                StepMetrics m;
                try {
                    m = job.step(it, options.lr().lr(it));
                } catch (NonFiniteLossException e) {
                    throw e.withLastCheckpoint(last);
                }
                long done = it + 1;
                group.progress(done);
                boolean checkpoint = done % options.checkpointEvery() == 0 || done == options.steps();
                if (writer) {
                    log.log(m);
                    bar.update(done, String.format(Locale.ROOT, "loss %.4f lr %.2e", m.loss(), m.lr()));
                    if (checkpoint) {
                        last = checkpoints.save(job.snapshot());
                    }
                }
                Optional<StepMetrics> heldOut = checkpoint ? job.heldOut(done, m.lr()) : Optional.empty();
                if (!writer) {
                    continue;
                }
                if (heldOut.isPresent()) {
                    MetricsLog.append(heldOutFile, heldOut.get());
                    LOG.info(String.format(Locale.ROOT, "%s: step %d: held-out loss %.4f", title, done,
                            heldOut.get().loss()));
                }
                if (done % options.plotEvery() == 0 || done == options.steps()) {
                    LossPlot.write(MetricsLog.read(metricsFile), MetricsLog.readIfPresent(heldOutFile), plot, title,
                            job::seriesName);
                }
            }
        } catch (IOException | RuntimeException e) {
            group.fail(e);
            throw e;
        }
        return new Result(options.steps(), start, last, metricsFile, plot);
    }
}
