package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The top command: help, version, usage errors. */
class MvarTest {
    /** The commands the top command registers, but for picocli's help: every one is checked below. */
    static Set<String> commands() {
        Set<String> names = new TreeSet<>(Mvar.newCommandLine().getSubcommands().keySet());
        names.remove("help");
        return names;
    }

    @Test
    void helpListsEveryCommandWithExamples() {
        assertEquals(Set.of("bench", "doctor", "eval", "import", "info", "sample", "set-preset", "tokenize", "train", "train-classifier",
                "train-tokenizer"), commands(), "a new command: add it to the README's table too");
        Cli.Result r = Cli.run("--help").ok();
        assertTrue(r.out().contains("Examples:"), r.out());
        for (String c : commands()) {
            assertTrue(r.out().contains("  " + c + " "), r.out());
            Cli.Result sub = Cli.run(c, "--help").ok();
            assertTrue(sub.out().contains("Examples:"), c + ":\n" + sub.out());
            assertTrue(sub.out().contains("./mvar " + c + " ") || sub.out().contains("./mvar " + c + "\n"),
                    c + ":\n" + sub.out());
            assertEquals(sub.out(), Cli.run("help", c).ok().out(), "'mvar help " + c + "' and '" + c + " --help'");
        }
    }

    /**
     * Example lines fit the default 80 columns: picocli would wrap a longer one mid-command, where a
     * copy into a shell breaks. A long example continues on the next line after a backslash.
     */
    @Test
    void examplesFitTheScreenAndContinueWithABackslash() {
        CommandLine top = Mvar.newCommandLine();
        for (CommandLine c : Stream.concat(Stream.of(top), top.getSubcommands().values().stream()).toList()) {
            String[] footer = c.getCommandSpec().usageMessage().footer();
            for (int i = 0; i < footer.length; i++) {
                String line = footer[i];
                String where = c.getCommandName() + " example line " + (i + 1) + ": '" + line + "'";
                assertTrue(line.length() <= 80, where + " is " + line.length() + " characters");
                boolean continuation = i > 0 && footer[i - 1].endsWith("\\");
                assertTrue(!continuation || line.startsWith("      "), where + " continues a command: indent it");
            }
        }
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
