package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs the {@code ./mvar} launcher as a process. The build runs this test in the package phase,
 * after the jar and {@code classpath.txt} exist; elsewhere (no jar yet) it is skipped. It never
 * builds: {@code MVAR_NO_BUILD=1}.
 */
class LauncherTest {
    static final Path LAUNCHER = Cli.REPO.resolve("mvar");

    record Run(int exit, String out, String err) {}

    @BeforeAll
    static void needsThePackagedCli() throws IOException {
        Path target = Cli.REPO.resolve("mvar-cli/target");
        boolean jar;
        try (Stream<Path> files = Files.exists(target) ? Files.list(target) : Stream.empty()) {
            jar = files.anyMatch(f -> f.getFileName().toString().matches("mvar-cli-.*(?<!-tests)\\.jar"));
        }
        Assumptions.assumeTrue(jar && Files.exists(target.resolve("classpath.txt")),
                "the CLI jar is not packaged yet (run mvn package): launcher test skipped");
    }

    static Run run(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(new File(System.getProperty("java.io.tmpdir")));
        pb.environment().put("MVAR_NO_BUILD", "1");
        File out = File.createTempFile("mvar-out", ".txt");
        File err = File.createTempFile("mvar-err", ".txt");
        try {
            Process p = pb.redirectOutput(out).redirectError(err).start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "./mvar did not finish");
            return new Run(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
                    Files.readString(err.toPath(), StandardCharsets.UTF_8));
        } finally {
            out.delete();
            err.delete();
        }
    }

    @Test
    void helpFromAnotherWorkingDirectory() throws Exception {
        Run r = run("--help");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Commands:") && r.out().contains("sample"), r.out());
        Run info = run("info", "fashion-mnist"); // found in configs/ next to the launcher
        assertEquals(0, info.exit(), info.err());
        assertTrue(info.out().contains("preset fashion-mnist"), info.out());
    }

    @Test
    void errorsAreOneLineWithAnExitCode() throws Exception {
        Run r = run("info", "no-such-preset");
        assertEquals(2, r.exit());
        assertEquals(1, r.err().lines().filter(l -> !l.isBlank()).count(), r.err());
        assertTrue(r.err().startsWith("mvar info: error: "), r.err());
        Run usage = run("sample", "--bogus");
        assertEquals(2, usage.exit());
    }
}
