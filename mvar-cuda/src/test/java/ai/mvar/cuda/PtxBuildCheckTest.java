package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Where nvcc is installed: recompiles the kernel and requires the committed PTX to be identical
 * (kernels/build.sh --check). Skipped without nvcc, or when nvcc is another release than the
 * one that built the committed PTX (exit 3), as then byte equality is not expected. A build that
 * hangs fails after ten minutes: the output goes to a file, so waiting for the process is what
 * times out.
 */
class PtxBuildCheckTest {
    private static final long TIMEOUT_MINUTES = 10;

    @Test
    void committedPtxMatchesTheSource() throws Exception {
        assumeTrue(onPath("nvcc"), "nvcc not on PATH: PTX rebuild check skipped");
        Path logFile = Files.createTempFile("ptx-build-check", ".log");
        try {
            Process p = new ProcessBuilder("bash", KernelSources.kernelsDir().resolve("build.sh").toString(), "--check")
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    .start();
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                fail("kernels/build.sh --check did not finish in " + TIMEOUT_MINUTES + " minutes:\n"
                        + Files.readString(logFile, StandardCharsets.UTF_8));
            }
            String log = Files.readString(logFile, StandardCharsets.UTF_8);
            assumeTrue(p.exitValue() != 3, log.trim());
            assertEquals(0, p.exitValue(), log);
        } finally {
            Files.deleteIfExists(logFile);
        }
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        return path != null && Arrays.stream(path.split(File.pathSeparator))
                .map(dir -> Path.of(dir, tool))
                .anyMatch(Files::isExecutable);
    }
}
