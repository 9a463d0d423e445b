package ai.mvar.train.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.mvar.checkpoint.SafeTensorsReader;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.TinyModels;
import ai.mvar.train.data.TokenCacheWriter;
import ai.mvar.train.distributed.Backend;
import ai.mvar.train.distributed.LocalLauncher;
import java.io.FileWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@link ResumableRun} in child JVMs, started in the background: one process, or {@code ranks}
 * ranks of a job through {@link LocalLauncher} (mpirun for MPI), each with one intra-op thread.
 * Output goes to {@code <out>.log}.
 */
final class ChildRun {
    /** How a run ended: the exit code and, for a job, the failure the launcher reported. */
    record End(int exitCode, String failure) {}

    private final Path out;
    private final CompletableFuture<End> end;
    private final Process single;

    private ChildRun(Path out, CompletableFuture<End> end, Process single) {
        this.out = out;
        this.end = end;
        this.single = single;
    }

    /**
     * Starts {@code ranks} processes (1: no launcher) training {@code steps} steps of {@code kind}
     * ({@code var}, {@code mvar} or {@code tokenizer}) into {@code out}.
     */
    static ChildRun start(Path out, Path cache, int ranks, long steps, int checkpointEvery, long delayMs, String kind,
            int batch) throws IOException {
        return start(out, cache, ranks, steps, checkpointEvery, delayMs, kind, batch, "cpu", Backend.MPI);
    }

    /** The same on {@code device} ({@code cpu}, {@code gpuN}), the ranks summing gradients with {@code backend}. */
    static ChildRun start(Path out, Path cache, int ranks, long steps, int checkpointEvery, long delayMs, String kind,
            int batch, String device, Backend backend) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        if (System.getProperty("jna.library.path") != null) {
            // where the GPU machine's libcudart is: DJL counts GPUs through it
            cmd.add("-Djna.library.path=" + System.getProperty("jna.library.path"));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ResumableRun.class.getName(),
                out.toString(), cache.toString(), Long.toString(steps), Integer.toString(checkpointEvery),
                Long.toString(delayMs), kind, Integer.toString(batch), device, backend.name()));
        Files.createDirectories(out);
        Path log = log(out);
        if (ranks == 1) {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().put("OMP_NUM_THREADS", "1");
            pb.environment().put("MKL_NUM_THREADS", "1");
            Process p = pb.start();
            return new ChildRun(out, p.onExit().thenApply(q -> new End(q.exitValue(), null)), p);
        }
        CompletableFuture<End> end = CompletableFuture.supplyAsync(() -> {
            try (Writer w = new FileWriter(log.toFile(), StandardCharsets.UTF_8, true)) {
                LocalLauncher.Result r = LocalLauncher.run(cmd, ranks, backend, w, w, Duration.ofMinutes(2));
                return new End(r.exitCode(), r.failure().orElse(null));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return new ChildRun(out, end, null);
    }

    boolean isAlive() {
        return !end.isDone();
    }

    /** Waits for the end, at most {@code timeout}. */
    End await(Duration timeout) throws Exception {
        return end.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** SIGKILL to the single process, or to rank {@code rank} of a job. */
    void kill(int rank) throws IOException, InterruptedException {
        if (single != null) {
            single.destroyForcibly();
            return;
        }
        String pid = Files.readString(out.resolve("rank-" + rank + ".pid")).strip();
        new ProcessBuilder("kill", "-9", pid).inheritIO().start().waitFor();
    }

    String output() {
        try {
            return Files.readString(log(out));
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    private static Path log(Path out) {
        return out.resolveSibling(out.getFileName() + ".log");
    }

    /** A token cache of 24 random 16 px images and their mirrors, from a random tiny tokenizer, in {@code dir}. */
    static Path tokenCache(Path dir) throws IOException {
        Path cache = dir.resolve("tokens.bin");
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenCacheWriter.write(cache, TinyModels.randomImages(24, 16, 3), vae, m, 8, true, n -> {});
        }
        return cache;
    }

    /** The steps that have a checkpoint in {@code run}. */
    static List<Long> checkpointSteps(Path run) throws IOException {
        List<Long> steps = new ArrayList<>();
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.matches("step-\\d{12}\\.safetensors"))
                    .forEach(n -> steps.add(Long.parseLong(n.substring(5, 17))));
        }
        return steps;
    }

    static Path checkpoint(Path run, long step) {
        return run.resolve("checkpoints").resolve(String.format("step-%012d.safetensors", step));
    }

    /** Every tensor of a checkpoint, as floats. */
    static Map<String, float[]> tensors(Path file) throws IOException {
        Map<String, float[]> out = new TreeMap<>();
        try (NDManager m = Torch.newManager(); SafeTensorsReader r = SafeTensorsReader.open(file)) {
            for (String name : r.tensors().keySet()) {
                NDArray a = r.load(name, m);
                out.put(name, a.toType(DataType.FLOAT32, false).toFloatArray());
            }
        }
        return out;
    }

    static Map<String, String> metadata(Path file) throws IOException {
        try (SafeTensorsReader r = SafeTensorsReader.open(file)) {
            return new TreeMap<>(r.metadata());
        }
    }
}
