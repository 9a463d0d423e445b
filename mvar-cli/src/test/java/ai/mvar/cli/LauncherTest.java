package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
        return run(LAUNCHER, Map.of("MVAR_NO_BUILD", "1"), args);
    }

    static Run run(Path launcher, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(new File(System.getProperty("java.io.tmpdir")));
        pb.environment().putAll(env);
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

    /**
     * The first build, in a copy of the launcher whose project has no jar yet and a stand-in
     * {@code mvn} that fails offline, as Maven does before the dependencies are downloaded, then
     * "builds" by copying the real jar: the user sees two progress lines, none of Maven's.
     */
    @Test
    void theFirstBuildShowsMavenOnlyWhenItFails(@TempDir Path dir) throws Exception {
        Path project = dir.resolve("project");
        Files.createDirectories(project.resolve("mvar-cli/target"));
        Files.copy(LAUNCHER, project.resolve("mvar"));
        Files.writeString(project.resolve("pom.xml"), "<project/>");
        Path target = Cli.REPO.resolve("mvar-cli/target");
        Path jar;
        try (Stream<Path> files = Files.list(target)) {
            jar = files.filter(f -> f.getFileName().toString().matches("mvar-cli-.*(?<!-tests)\\.jar")).findFirst().orElseThrow();
        }
        Path bin = dir.resolve("bin");
        Files.createDirectories(bin);
        Path mvn = bin.resolve("mvn");
        Files.writeString(mvn, String.join("\n",
                "#!/usr/bin/env bash",
                "printf '\\033[0m\\033[0m[ERROR] Failed to execute goal: cannot access central in offline mode\\n'",
                "for a in \"$@\"; do [[ $a == -o ]] && exit 1; done",
                "if [[ -n \"${FAKE_MVN_FAILS:-}\" ]]; then printf '\\033[1;31m[ERROR] COMPILATION ERROR\\033[m\\n'; exit 1; fi",
                "cp '" + jar + "' '" + project.resolve("mvar-cli/target/mvar-cli-0.jar") + "'",
                "cp '" + target.resolve("classpath.txt") + "' '" + project.resolve("mvar-cli/target/classpath.txt") + "'",
                ""));
        assertTrue(mvn.toFile().setExecutable(true));
        Map<String, String> env = Map.of("PATH", bin + File.pathSeparator + System.getenv("PATH"), "TMPDIR", dir.toString());

        Map<String, String> failing = new java.util.HashMap<>(env);
        failing.put("FAKE_MVN_FAILS", "1");
        Run failed = run(project.resolve("mvar"), failing, "--version");
        assertEquals(1, failed.exit(), failed.err());
        assertTrue(failed.err().contains("[ERROR] COMPILATION ERROR"), failed.err());
        assertFalse(failed.err().contains("\u001b"), "no terminal escape codes:\n" + failed.err());
        List<String> lines = failed.err().lines().toList();
        assertTrue(lines.get(lines.size() - 1).startsWith("mvar: error: the build failed"), failed.err());

        Run built = run(project.resolve("mvar"), env, "--version");
        assertEquals(0, built.exit(), built.err());
        assertTrue(built.out().startsWith("mvar "), built.out());
        assertEquals(List.of("mvar: building the command line (mvn package -pl mvar-cli -am) ...",
                "mvar: fetching dependencies from Maven Central (first build) ..."), built.err().lines().toList());
    }
}
