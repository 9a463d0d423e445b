package ai.mvar.train.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.train.MetricsLog;
import ai.mvar.train.StepMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A training run killed with SIGKILL between two checkpoints and started again on the same folder
 * ends exactly where an uninterrupted run ends: same per-step losses, same metrics lines, same
 * final weights and optimizer state (for the tokenizer also the discriminator, its optimizer and
 * the weight average; in fp16 also the loss scaler, which skips steps and changes its scale across
 * the kill). In one process, and as a job of two ranks (mpirun) in which rank 1 is
 * killed: the job stops with a message naming it within 60 s, and the same command resumes both
 * ranks.
 */
class SigkillResumeTest {
    private static final int STEPS = 24;
    private static final int EVERY = 4;
    private static final int BATCH = 4;

    @TempDir
    Path dir;

    /** MVAR in fp32 and fp16, and the tokenizer with discriminator, its optimizer and a weight average in the checkpoint. */
    @ParameterizedTest
    @ValueSource(strings = {"mvar", "mvar-fp16", "tokenizer"})
    void killedRunResumesToTheSameResult(String kind) throws Exception {
        killAndResume(kind, 1);
    }

    @Test
    void killedRankStopsTheJobAndTheSameCommandResumesEveryRank() throws Exception {
        killAndResume("mvar", 2);
    }

    private void killAndResume(String kind, int ranks) throws Exception {
        Path cache = ChildRun.tokenCache(dir);
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");

        ChildRun runA = ChildRun.start(a, cache, ranks, STEPS, EVERY, 0, kind, BATCH);
        assertEquals(0, runA.await(Duration.ofMinutes(5)).exitCode(), () -> "run A failed:\n" + runA.output());

        // Run B: killed once it has written steps past a checkpoint, half-way to the next one.
        ChildRun runB = ChildRun.start(b, cache, ranks, STEPS, EVERY, 250, kind, BATCH);
        Path metricsB = b.resolve("metrics.jsonl");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        int seen = 0;
        while (runB.isAlive() && System.nanoTime() < deadline) {
            seen = Files.exists(metricsB) ? MetricsLog.read(metricsB).size() : 0;
            if (seen > 2 * EVERY && seen % EVERY == EVERY / 2) {
                break;
            }
            Thread.sleep(20);
        }
        assertTrue(runB.isAlive(), () -> "run B ended before it could be killed:\n" + runB.output());
        long killed = System.nanoTime();
        runB.kill(ranks - 1);
        ChildRun.End end = runB.await(Duration.ofSeconds(60));
        double seconds = (System.nanoTime() - killed) / 1e9;
        if (ranks == 1) {
            assertEquals(128 + 9, end.exitCode(), "run B died of SIGKILL");
        } else {
            assertTrue(seconds < 60, "the job took " + seconds + " s to stop");
            System.out.printf(java.util.Locale.ROOT, "the job stopped %.1f s after rank 1 was killed%n", seconds);
            assertTrue(end.exitCode() != 0, runB::output);
            assertTrue(end.failure() != null && end.failure().startsWith("rank 1 of 2 (pid ")
                    && end.failure().contains("without finishing: it was killed"), () -> end + "\n" + runB.output());
        }
        int written = MetricsLog.read(metricsB).size();
        long lastCheckpoint = ChildRun.checkpointSteps(b).stream().mapToLong(Long::longValue).max().orElse(0);
        assertTrue(written > lastCheckpoint, "killed with " + written + " steps logged, checkpoint at " + lastCheckpoint
                + ": lines past the checkpoint must be dropped on resume");
        assertCheckpointsComplete(b);

        ChildRun resumed = ChildRun.start(b, cache, ranks, STEPS, EVERY, 0, kind, BATCH);
        assertEquals(0, resumed.await(Duration.ofMinutes(5)).exitCode(), () -> "resumed run B failed:\n" + resumed.output());
        assertTrue(resumed.output().contains("DONE " + STEPS + " resumed from " + lastCheckpoint), resumed::output);

        List<StepMetrics> ma = MetricsLog.read(a.resolve("metrics.jsonl"));
        List<StepMetrics> mb = MetricsLog.read(metricsB);
        assertEquals(STEPS, mb.size(), "one line per step");
        for (int i = 0; i < STEPS; i++) {
            assertEquals(i + 1, mb.get(i).step());
            assertEquals(ma.get(i).loss(), mb.get(i).loss(), 0.0, "loss of step " + (i + 1));
            assertArrayEquals(ma.get(i).scaleLoss(), mb.get(i).scaleLoss(), 0.0, "scale losses of step " + (i + 1));
            assertEquals(ma.get(i).lr(), mb.get(i).lr(), 0.0);
        }
        if (!kind.equals("tokenizer")) {
            List<StepMetrics> ha = MetricsLog.read(a.resolve("held_out.jsonl"));
            List<StepMetrics> hb = MetricsLog.read(b.resolve("held_out.jsonl"));
            assertEquals(LongStream.rangeClosed(1, STEPS / EVERY).map(c -> c * EVERY).boxed().toList(),
                    hb.stream().map(StepMetrics::step).toList(), "one held-out line per checkpoint, none twice");
            for (int i = 0; i < ha.size(); i++) {
                assertArrayEquals(ha.get(i).scaleLoss(), hb.get(i).scaleLoss(), 0.0, "held-out at step " + ha.get(i).step());
            }
        }
        assertCheckpointsComplete(a);
        assertCheckpointsComplete(b);
        Map<String, float[]> wa = ChildRun.tensors(ChildRun.checkpoint(a, STEPS));
        Map<String, float[]> wb = ChildRun.tensors(ChildRun.checkpoint(b, STEPS));
        assertEquals(wa.keySet(), wb.keySet());
        List<String> prefixes = kind.equals("tokenizer")
                ? List.of("optim.", "model.discriminator.", "optim.discriminator.", "model.ema.")
                : kind.equals("mvar-fp16") ? List.of("optim.", "optim.grad_scaler.") : List.of("optim.");
        for (String prefix : prefixes) {
            assertTrue(wa.keySet().stream().anyMatch(k -> k.startsWith(prefix)), prefix + " in the checkpoint");
        }
        for (String k : wa.keySet()) {
            assertArrayEquals(wa.get(k), wb.get(k), 0f, k);
        }
        assertEquals(ChildRun.metadata(ChildRun.checkpoint(a, STEPS)), ChildRun.metadata(ChildRun.checkpoint(b, STEPS)));
        if (kind.equals("mvar-fp16")) {
            assertTrue(wa.get("optim.grad_scaler.scale")[0] < Math.pow(2, 26), "the run skipped steps and lowered its scale");
        }
    }

    /**
     * Every checkpoint file reads back whole and every save that completed is there; a kill during a
     * save may leave only a hidden temporary file, never a partial checkpoint under the final name.
     */
    private static void assertCheckpointsComplete(Path run) throws IOException {
        List<Long> steps = ChildRun.checkpointSteps(run);
        assertFalse(steps.isEmpty());
        for (long s : steps) {
            assertEquals(0, s % EVERY, "checkpoint at step " + s);
            Map<String, float[]> t = ChildRun.tensors(ChildRun.checkpoint(run, s));
            assertTrue(t.size() > 10, ChildRun.checkpoint(run, s) + " has " + t.size() + " tensors");
            assertEquals(Long.toString(s), ChildRun.metadata(ChildRun.checkpoint(run, s)).get("step"));
        }
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            s.map(p -> p.getFileName().toString()).filter(n -> !n.matches("step-\\d{12}\\.safetensors"))
                    .forEach(n -> assertTrue(n.startsWith(".") && n.endsWith(".tmp"), "unexpected file " + n));
        }
    }
}
