package ai.mvar.train.distributed;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts the ranks of a job on this machine, one process per device, as {@code mvar train
 * --devices a,b,...} does, and watches them until they all finish or the job fails.
 *
 * <p>Every rank runs the same command; the environment tells it its rank. With the {@link
 * Backend#MPI MPI} backend the ranks are started by {@code mpirun -np N} (they must form one MPI
 * job); with {@link Backend#NCCL NCCL} they are started directly, with torchrun's variables
 * ({@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}), so no MPI is needed on a GPU machine.
 * This process serves the job's {@link RendezvousServer} ({@link LaunchEnvironment#RENDEZVOUS_VARIABLE}):
 * when a rank dies or fails it hears at once and tells the other ranks to stop; they get {@link
 * #GRACE} to exit by themselves (each says why on stderr), then whatever is left is ended (SIGTERM,
 * then SIGKILL after another {@link #GRACE}). The ranks share the machine's cores: unless the
 * environment sets {@code OMP_NUM_THREADS}, each gets cores / ranks intra-op threads.
 */
public final class LocalLauncher {
    /** How long ranks told to stop get to exit by themselves, and then how long SIGTERM gets before SIGKILL. */
    static final Duration GRACE = Duration.ofSeconds(10);

    /**
     * How the job ended.
     *
     * @param exitCode 0 when every rank finished
     * @param failure what went wrong first, naming the rank, when the job failed
     */
    public record Result(int exitCode, Optional<String> failure) {
        public boolean ok() {
            return exitCode == 0 && failure.isEmpty();
        }
    }

    private LocalLauncher() {}

    /**
     * Runs {@code command} as {@code ranks} ranks and waits for the job to end.
     *
     * @param command the worker command line, the same for every rank
     * @param out receives the ranks' standard output (rank 0 reports; the others stay quiet)
     * @param err receives their standard error
     * @param joinTimeout how long ranks may take to start and join
     */
    public static Result run(List<String> command, int ranks, Backend backend, Writer out, Writer err,
            Duration joinTimeout) throws IOException {
        if (ranks < 2) {
            throw new IllegalArgumentException("a local job needs at least 2 ranks, got " + ranks);
        }
        CompletableFuture<String> failed = new CompletableFuture<>();
        try (RendezvousServer server = RendezvousServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                ranks, joinTimeout, failed::complete)) {
            Map<String, String> env = new LinkedHashMap<>();
            env.put(LaunchEnvironment.RENDEZVOUS_VARIABLE, InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.port());
            if (System.getenv("OMP_NUM_THREADS") == null) {
                String threads = Integer.toString(Math.max(1, Runtime.getRuntime().availableProcessors() / ranks));
                env.put("OMP_NUM_THREADS", threads);
                env.put("MKL_NUM_THREADS", threads);
            }
            List<Process> processes = backend == Backend.MPI ? List.of(mpirun(command, ranks, env))
                    : direct(command, ranks, env);
            Thread stopOnExit = new Thread(() -> stop(processes, false), "stop ranks");
            Runtime.getRuntime().addShutdownHook(stopOnExit);
            try {
                List<Thread> pumps = new ArrayList<>();
                for (Process p : processes) {
                    pumps.add(pump(p.getInputStream(), out));
                    pumps.add(pump(p.getErrorStream(), err));
                }
                CompletableFuture<?>[] exits = processes.stream().map(Process::onExit).toArray(CompletableFuture[]::new);
                CompletableFuture<Process> badExit = new CompletableFuture<>();
                processes.forEach(p -> p.onExit().thenAccept(q -> {
                    if (q.exitValue() != 0) {
                        badExit.complete(q);
                    }
                }));
                CompletableFuture.anyOf(failed, badExit, CompletableFuture.allOf(exits)).join();
                if (badExit.isDone() && !failed.isDone()) {
                    // A rank that dies closes its rendezvous connection as it exits, but the rendezvous may
                    // read that after this process has seen the exit code; its message names the rank,
                    // its pid and its last step, and tells the others to stop.
                    awaitQuietly(failed, GRACE);
                }
                Optional<String> failure = server.failure();
                if (failure.isPresent()) {
                    stop(processes, true);
                } else {
                    failure = firstBadExit(processes, backend);
                    if (failure.isPresent()) {
                        stop(processes, false);
                    }
                }
                for (Thread t : pumps) {
                    t.join(TimeUnit.SECONDS.toMillis(5));
                }
                int code = processes.stream().mapToInt(p -> p.isAlive() ? 1 : p.exitValue()).filter(c -> c != 0)
                        .findFirst().orElse(0);
                return new Result(failure.isPresent() && code == 0 ? 1 : code, failure);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stop(processes, false);
                throw new IOException("interrupted while the ranks were running", e);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(stopOnExit);
                } catch (IllegalStateException e) {
                    // the JVM is shutting down: the hook runs
                }
            }
        }
    }

    /** The ranks as one MPI job. */
    private static Process mpirun(List<String> command, int ranks, Map<String, String> env) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("mpirun", "-np", Integer.toString(ranks),
                // the ranks share the cores through their thread counts; --quiet: the rendezvous explains failures
                "--bind-to", "none", "--oversubscribe", "--quiet"));
        if (runsAsRoot()) {
            cmd.add("--allow-run-as-root"); // containers (CI) run as root; this is the user's own command
        }
        for (String key : env.keySet()) {
            cmd.add("-x");
            cmd.add(key);
        }
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        try {
            return pb.start();
        } catch (IOException e) {
            throw new IOException("cannot start mpirun (" + e.getMessage() + "): the MPI backend needs Open MPI"
                    + " (Debian: apt-get install openmpi-bin)", e);
        }
    }

    /** Whether this process runs as uid 0, which mpirun refuses unless told that it is meant. */
    static boolean runsAsRoot() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name")); // no /proc: trust the name
        }
    }

    /** The ranks as separate processes with torchrun's variables. */
    private static List<Process> direct(List<String> command, int ranks, Map<String, String> env) throws IOException {
        List<Process> out = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            ProcessBuilder pb = new ProcessBuilder(command);
            pb.environment().putAll(env);
            pb.environment().put("RANK", Integer.toString(r));
            pb.environment().put("LOCAL_RANK", Integer.toString(r));
            pb.environment().put("WORLD_SIZE", Integer.toString(ranks));
            pb.environment().put("LOCAL_WORLD_SIZE", Integer.toString(ranks));
            try {
                out.add(pb.start());
            } catch (IOException e) {
                stop(out, false);
                throw e;
            }
        }
        return out;
    }

    /** "rank 1 exited with code 137 (killed by signal 9)" for the first process that failed. */
    private static Optional<String> firstBadExit(List<Process> processes, Backend backend) {
        for (int r = 0; r < processes.size(); r++) {
            Process p = processes.get(r);
            if (!p.isAlive() && p.exitValue() != 0) {
                String who = backend == Backend.MPI ? "mpirun" : "rank " + r + " (pid " + p.pid() + ")";
                return Optional.of(who + " exited with code " + p.exitValue() + describe(p.exitValue()));
            }
        }
        return Optional.empty();
    }

    private static String describe(int code) {
        return code > 128 && code < 160 ? " (killed by signal " + (code - 128) + ")" : "";
    }

    /**
     * Ends the job's processes: ranks that the rendezvous {@code told} to stop first get {@link #GRACE}
     * to exit by themselves (each says why on stderr as it goes), then SIGTERM goes to every process
     * left (mpirun passes it on), and SIGKILL to what remains after another {@link #GRACE}.
     */
    private static void stop(List<Process> processes, boolean told) {
        if (told && exitWithin(processes, GRACE)) {
            return;
        }
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        if (!exitWithin(processes, GRACE)) {
            for (Process p : processes) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
    }

    /** Whether every process has exited within {@code timeout}. */
    private static boolean exitWithin(List<Process> processes, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            for (Process p : processes) {
                if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    return false;
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits at most {@code timeout} for {@code f}, whatever its outcome. */
    private static void awaitQuietly(CompletableFuture<?> f, Duration timeout) {
        try {
            f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // the caller reads what there is
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Copies a rank's output as it comes, so progress bars (carriage returns) stay live. */
    private static Thread pump(InputStream in, Writer to) {
        Thread t = RendezvousServer.daemon(() -> {
            char[] buffer = new char[8192];
            try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                for (int n; (n = r.read(buffer)) > 0; ) {
                    synchronized (to) {
                        to.write(buffer, 0, n);
                        to.flush();
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "rank output");
        t.start();
        return t;
    }
}
