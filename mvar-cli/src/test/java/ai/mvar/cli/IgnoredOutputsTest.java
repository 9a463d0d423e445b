package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** What the README's commands write into the clone (samples/, runs/, tokens/) never shows up in git status. */
class IgnoredOutputsTest {
    @Test
    void theFoldersTheReadmeWritesAreIgnoredByGit() throws Exception {
        Assumptions.assumeTrue(Files.exists(Cli.REPO.resolve(".git")), "not a git checkout");
        for (String path : List.of("samples/grid.png", "runs/fm-mvar/mvar.safetensors", "tokens/fm.bin")) {
            Process p = new ProcessBuilder("git", "check-ignore", "-q", path)
                    .directory(Cli.REPO.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(new File("/dev/null")))
                    .start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "git check-ignore did not answer");
            assertEquals(0, p.exitValue(), path + " is not ignored by .gitignore");
        }
    }
}
