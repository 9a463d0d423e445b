package ai.mvar.train.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.SafeTensorsReader;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.MetricsLog;
import ai.mvar.train.StepMetrics;
import ai.mvar.train.TinyModels;
import ai.mvar.train.data.TokenCacheWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training run killed with SIGKILL between two checkpoints and started again on the same folder
 * ends exactly where an uninterrupted run ends: same per-step losses, same metrics lines, same
 * final weights and optimizer state (for the tokenizer also the discriminator, its optimizer and
 * the weight average; in fp16 also the loss scaler, which skips steps and changes its scale across
 * the kill).
 */
class SigkillResumeTest {
    private static final int STEPS = 24;
    private static final int EVERY = 4;

    @TempDir
    Path dir;

    /** MVAR in fp32 and fp16, and the tokenizer with discriminator, its optimizer and a weight average in the checkpoint. */
    @ParameterizedTest
    @ValueSource(strings = {"mvar", "mvar-fp16", "tokenizer"})
    void killedRunResumesToTheSameResult(String kind) throws Exception {
        Path cache = dir.resolve("tokens.bin");
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenCacheWriter.write(cache, TinyModels.randomImages(24, 16, 3), vae, m, 8, true, n -> {});
        }
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");

        Process runA = start(a, cache, 0, kind);
        assertEquals(0, runA.waitFor(), () -> "run A failed:\n" + output(a));

        // Run B: killed once it has written steps past a checkpoint, half-way to the next one.
        Process runB = start(b, cache, 250, kind);
        Path metricsB = b.resolve("metrics.jsonl");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        int seen = 0;
        while (runB.isAlive() && System.nanoTime() < deadline) {
            seen = Files.exists(metricsB) ? MetricsLog.read(metricsB).size() : 0;
            if (seen > 2 * EVERY && seen % EVERY == EVERY / 2) {
                break;
            }
            Thread.sleep(20);
        }
        assertTrue(runB.isAlive(), () -> "run B ended before it could be killed:\n" + output(b));
        runB.destroyForcibly();
        assertTrue(runB.waitFor(30, TimeUnit.SECONDS));
        assertEquals(128 + 9, runB.exitValue(), "run B died of SIGKILL");
        int written = MetricsLog.read(metricsB).size();
        long lastCheckpoint = checkpointSteps(b).stream().mapToLong(Long::longValue).max().orElse(0);
        assertTrue(written > lastCheckpoint, "killed with " + written + " steps logged, checkpoint at " + lastCheckpoint
                + ": lines past the checkpoint must be dropped on resume");
        assertCheckpointsComplete(b);

        Process resumed = start(b, cache, 0, kind);
        assertEquals(0, resumed.waitFor(), () -> "resumed run B failed:\n" + output(b));
        assertTrue(output(b).contains("DONE " + STEPS + " resumed from " + lastCheckpoint), output(b));

        List<StepMetrics> ma = MetricsLog.read(a.resolve("metrics.jsonl"));
        List<StepMetrics> mb = MetricsLog.read(metricsB);
        assertEquals(STEPS, mb.size(), "one line per step");
        for (int i = 0; i < STEPS; i++) {
            assertEquals(i + 1, mb.get(i).step());
            assertEquals(ma.get(i).loss(), mb.get(i).loss(), 0.0, "loss of step " + (i + 1));
            assertArrayEquals(ma.get(i).scaleLoss(), mb.get(i).scaleLoss(), 0.0, "scale losses of step " + (i + 1));
            assertEquals(ma.get(i).lr(), mb.get(i).lr(), 0.0);
        }
        assertCheckpointsComplete(a);
        assertCheckpointsComplete(b);
        Map<String, float[]> wa = tensors(checkpoint(a, STEPS));
        Map<String, float[]> wb = tensors(checkpoint(b, STEPS));
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
        assertEquals(readMetadata(checkpoint(a, STEPS)), readMetadata(checkpoint(b, STEPS)));
        if (kind.equals("mvar-fp16")) {
            assertTrue(wa.get("optim.grad_scaler.scale")[0] < Math.pow(2, 26), "the run skipped steps and lowered its scale");
        }
    }

    /** The child JVM, one thread for the engine, its output in {@code dir.log}. */
    private static Process start(Path out, Path cache, long delayMs, String kind) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), ResumableRun.class.getName(),
                out.toString(), cache.toString(), Integer.toString(STEPS), Integer.toString(EVERY), Long.toString(delayMs), kind));
        Files.createDirectories(out);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(out).toFile()));
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("MKL_NUM_THREADS", "1");
        return pb.start();
    }

    private static Path log(Path out) {
        return out.resolveSibling(out.getFileName() + ".log");
    }

    private static String output(Path out) {
        try {
            return Files.readString(log(out));
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    private static List<Long> checkpointSteps(Path run) throws IOException {
        List<Long> steps = new ArrayList<>();
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.matches("step-\\d{12}\\.safetensors"))
                    .forEach(n -> steps.add(Long.parseLong(n.substring(5, 17))));
        }
        return steps;
    }

    private static Path checkpoint(Path run, long step) {
        return run.resolve("checkpoints").resolve(String.format("step-%012d.safetensors", step));
    }

    /**
     * Every checkpoint file reads back whole and every save that completed is there; a kill during a
     * save may leave only a hidden temporary file, never a partial checkpoint under the final name.
     */
    private static void assertCheckpointsComplete(Path run) throws IOException {
        List<Long> steps = checkpointSteps(run);
        assertFalse(steps.isEmpty());
        for (long s : steps) {
            assertEquals(0, s % EVERY, "checkpoint at step " + s);
            Map<String, float[]> t = tensors(checkpoint(run, s));
            assertTrue(t.size() > 10, checkpoint(run, s) + " has " + t.size() + " tensors");
            assertEquals(Long.toString(s), readMetadata(checkpoint(run, s)).get("step"));
        }
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            s.map(p -> p.getFileName().toString()).filter(n -> !n.matches("step-\\d{12}\\.safetensors"))
                    .forEach(n -> assertTrue(n.startsWith(".") && n.endsWith(".tmp"), "unexpected file " + n));
        }
    }

    private static Map<String, float[]> tensors(Path file) throws IOException {
        Map<String, float[]> out = new TreeMap<>();
        try (NDManager m = Torch.newManager(); SafeTensorsReader r = SafeTensorsReader.open(file)) {
            for (String name : r.tensors().keySet()) {
                NDArray a = r.load(name, m);
                out.put(name, a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray());
            }
        }
        return out;
    }

    private static Map<String, String> readMetadata(Path file) throws IOException {
        try (SafeTensorsReader r = SafeTensorsReader.open(file)) {
            return new TreeMap<>(r.metadata());
        }
    }
}
