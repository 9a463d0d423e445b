package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The top command: help, version, usage errors. */
class MvarTest {
    @Test
    void helpListsEveryCommandWithExamples() {
        Cli.Result r = Cli.run("--help").ok();
        for (String c : List.of("sample", "tokenize", "import", "bench", "info")) {
            assertTrue(r.out().contains("  " + c + " "), r.out());
            Cli.Result sub = Cli.run(c, "--help").ok();
            assertTrue(sub.out().contains("Examples:"), c + ":\n" + sub.out());
            assertTrue(sub.out().contains("./mvar " + c), c + ":\n" + sub.out());
        }
        assertTrue(r.out().contains("Examples:"), r.out());
    }

    @Test
    void version() {
        Cli.Result r = Cli.run("--version").ok();
        assertTrue(r.out().startsWith("mvar "), r.out());
    }

    @Test
    void usageErrors() {
        Cli.run().failsWithOneLine(2, "", "no command given").toString();
        Cli.run("paint").failsWithOneLine(2, "", "paint");
        Cli.run("sample", "--bogus").failsWithOneLine(2, "sample", "--bogus");
        Cli.Result verbose = Cli.run("--verbose", "sample", "--bogus");
        assertEquals(2, verbose.exit());
        assertTrue(verbose.err().contains("\tat picocli."), verbose.err());
    }
}
