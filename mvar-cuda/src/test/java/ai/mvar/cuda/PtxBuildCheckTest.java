package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * one that built the committed PTX, as then byte equality is not expected.
 */
class PtxBuildCheckTest {

    @Test
    void committedPtxMatchesTheSource() throws Exception {
        assumeTrue(onPath("nvcc"), "nvcc not on PATH: PTX rebuild check skipped");
        Process p = new ProcessBuilder("bash", KernelSources.kernelsDir().resolve("build.sh").toString(), "--check")
                .redirectErrorStream(true)
                .start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(p.waitFor(10, TimeUnit.MINUTES), "nvcc did not finish in 10 minutes");
        assumeTrue(p.exitValue() != 3, log.trim());
        assertEquals(0, p.exitValue(), log);
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        return path != null && Arrays.stream(path.split(File.pathSeparator))
                .map(dir -> Path.of(dir, tool))
                .anyMatch(Files::isExecutable);
    }
}
