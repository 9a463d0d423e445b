package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Runs the real {@code mvar} command line in-process and captures what it prints. */
final class Cli {
    /** The repository root (tests run in mvar-cli/), where configs/ lives. */
    static final Path REPO = Path.of("").toAbsolutePath().getParent();

    static {
        if (System.getProperty(Home.PROPERTY) == null && Files.isDirectory(REPO.resolve("configs"))) {
            System.setProperty(Home.PROPERTY, REPO.toString());
        }
    }

    private Cli() {}

    record Result(int exit, String out, String err) {
        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }

        /** Exit 0; shows the output when not. */
        Result ok() {
            assertEquals(0, exit, () -> "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err);
            return this;
        }

        /** A failure with exactly one line on stderr of the form "mvar <command>: error: ...", containing {@code text}. */
        Result failsWithOneLine(int code, String command, String text) {
            assertNotEquals(0, exit);
            assertEquals(code, exit, () -> "stderr:\n" + err);
            assertEquals(1, errLines().size(), () -> "expected one line on stderr, got:\n" + err);
            String line = errLines().get(0);
            String prefix = command.isEmpty() ? "mvar: error: " : "mvar " + command + ": error: ";
            assertTrue(line.startsWith(prefix), line);
            assertTrue(line.contains(text), () -> "'" + text + "' not in: " + line);
            return this;
        }

        /** Failed and printed a stack trace (--verbose). */
        Result failsWithStackTrace() {
            assertNotEquals(0, exit);
            assertTrue(errLines().size() > 2, err);
            assertTrue(err.contains("\tat ai.mvar.") || err.contains("\tat picocli."), err);
            return this;
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Mvar.newCommandLine()
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(args);
        return new Result(exit, out.toString(), err.toString());
    }
}
