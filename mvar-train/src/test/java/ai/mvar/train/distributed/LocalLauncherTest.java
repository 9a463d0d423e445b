package ai.mvar.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real jobs of two JVMs on this machine: Open MPI's mpirun for the MPI backend, plain processes otherwise. */
class LocalLauncherTest {
    @TempDir
    Path dir;

    /** The worker command: this JVM's class path, {@link RankMain} and {@code args}. */
    static List<String> worker(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), RankMain.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Test
    void mpiRanksSumGradientsInBuckets() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        // 40-byte buckets: "c" (32 bytes) alone, "b" (20) alone, "unused" (28) alone, "a" (48) alone
        LocalLauncher.Result r = LocalLauncher.run(worker("reduce", "40"), 2, Backend.MPI, out, err, Duration.ofMinutes(2));
        assertTrue(r.ok(), () -> r + "\n" + out + err);
        assertTrue(out.toString().contains("REDUCED rank 0 of 2, 4 bucket(s)"), out::toString);
        assertTrue(out.toString().contains("REDUCED rank 1 of 2, 4 bucket(s)"), out::toString);

        StringWriter one = new StringWriter();
        LocalLauncher.Result big = LocalLauncher.run(worker("reduce", Long.toString(GradientReducer.DEFAULT_BUCKET_BYTES)),
                2, Backend.MPI, one, err, Duration.ofMinutes(2));
        assertTrue(big.ok(), () -> big + "\n" + one + err);
        assertTrue(one.toString().contains("REDUCED rank 0 of 2, 1 bucket(s)"), one::toString);
    }

    /**
     * Under the user's own mpirun (no mvar launcher, no MASTER_ADDR: the CPU cluster command of
     * docs/distributed.md) rank 0 serves the rendezvous and sends its address to the others over MPI.
     */
    @Test
    void ranksOfTheUsersOwnMpirunFindEachOther() throws Exception {
        List<String> cmd = new ArrayList<>(List.of("mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none"));
        if (LocalLauncher.runsAsRoot()) {
            cmd.add("--allow-run-as-root");
        }
        cmd.addAll(worker("reduce", "40"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        List.of(LaunchEnvironment.RENDEZVOUS_VARIABLE, "MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE")
                .forEach(pb.environment()::remove);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        try {
            String out = assertTimeoutPreemptively(Duration.ofMinutes(3),
                    () -> new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8), "the job hung");
            assertEquals(0, p.waitFor(), out);
            assertTrue(out.contains("REDUCED rank 0 of 2, 4 bucket(s)"), out);
            assertTrue(out.contains("REDUCED rank 1 of 2, 4 bucket(s)"), out);
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    @Test
    void aRankKilledUnderMpirunStopsTheJobWithAClearMessage() throws Exception {
        assertStopsAfterRankOneDies("die", Backend.MPI);
    }

    @Test
    void aRankKilledWhileOthersWaitStopsTheJobWithoutMpi() throws Exception {
        assertStopsAfterRankOneDies("die-direct", Backend.NCCL);
    }

    /**
     * Rank 1 SIGKILLs itself (its pid file is written just before): the job ends within 60 s of the
     * kill, and the failure names rank 1, its pid and its last step. The ranks' start-up under load
     * does not count against the 60 s; a job that never ends fails the test after 5 minutes.
     */
    private void assertStopsAfterRankOneDies(String mode, Backend backend) throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        LocalLauncher.Result r = assertTimeoutPreemptively(Duration.ofMinutes(5),
                () -> LocalLauncher.run(worker(mode, dir.toString()), 2, backend, out, err, Duration.ofMinutes(2)),
                "the job did not end after rank 1 was killed");
        Instant ended = Instant.now();
        Path pid = dir.resolve("rank-1.pid");
        assertTrue(Files.exists(pid), () -> "rank 1 ended before it could kill itself: " + r + "\n" + out + err);
        Instant killed = Files.getLastModifiedTime(pid).toInstant();
        double seconds = Duration.between(killed, ended).toMillis() / 1e3;
        assertFalse(r.ok());
        assertTrue(seconds < 60, "the job took " + seconds + " s to stop after rank 1 was killed");
        String failure = r.failure().orElseThrow();
        assertTrue(failure.startsWith("rank 1 of 2 (pid "), failure);
        assertTrue(failure.contains("without finishing: it was killed"), failure);
        assertTrue(failure.contains(backend == Backend.MPI ? "after step 3" : "after step 5"), failure);
        if (backend != Backend.MPI) {
            // Under mpirun the survivors may be ended by mpirun itself before they can say why.
            assertTrue(err.toString().contains("mvar: rank 0 of 2: stopping: rank 1 of 2"), err::toString);
        }
        assertTrue(r.exitCode() != 0);
    }
}
