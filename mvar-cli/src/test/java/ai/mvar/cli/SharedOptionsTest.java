package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The options several commands share ({@link BatchOption}, {@link ModelOption}, {@link
 * TokenizerOption}): the same check, the same message and each command's own default everywhere.
 */
class SharedOptionsTest {
    @TempDir
    static Path dir;

    static TinyModel tiny;

    @BeforeAll
    static void setUp() throws Exception {
        tiny = TinyModel.create(dir);
    }

    /** Every command with --batch, the arguments it needs besides, and its default batch. */
    private static final Map<String, Object[]> BATCH_COMMANDS = Map.of(
            "sample", new Object[] {new String[] {}, 16},
            "eval", new Object[] {new String[] {}, 50},
            "bench", new Object[] {new String[] {}, 1},
            "tokenize", new Object[] {new String[] {"--data", "fashion-mnist", "-o", "t.bin"}, 64},
            "info", new Object[] {new String[] {"d16"}, 1},
            "train", new Object[] {new String[] {"--tokens", "t.bin", "-o", "run"}, 64},
            "train-tokenizer", new Object[] {new String[] {"--preset", "fashion-mnist", "-o", "run"}, 64},
            "train-classifier", new Object[] {new String[] {"-o", "c.safetensors"}, 64});

    @Test
    void batchBelowOneIsAUsageErrorEverywhere() {
        BATCH_COMMANDS.forEach((command, spec) -> {
            String[] needed = (String[]) spec[0];
            String[] args = new String[needed.length + 3];
            args[0] = command;
            System.arraycopy(needed, 0, args, 1, needed.length);
            args[needed.length + 1] = "--batch";
            args[needed.length + 2] = "0";
            Cli.run(args).failsWithOneLine(2, command, "--batch must be at least 1, got 0");
        });
    }

    @Test
    void helpShowsEachCommandsOwnDefaultBatch() {
        BATCH_COMMANDS.forEach((command, spec) -> {
            String help = Cli.run(command, "--help").ok().out().replaceAll("\\s+", " ");
            assertTrue(help.contains("--batch=<n> Images processed at once. Default: " + spec[1] + "."),
                    command + ":\n" + help);
        });
    }

    @Test
    void aFolderIsNotAModelFile() {
        String folder = dir.toString();
        String tok = tiny.tokenizer.toString();
        Cli.run("sample", "--tokenizer", tok, "--model", folder).failsWithOneLine(1, "sample", "a folder; --model takes a file");
        Cli.run("eval", "--tokenizer", tok, "--model", folder).failsWithOneLine(1, "eval", "a folder; --model takes a file");
        Cli.run("bench", "--tokenizer", tok, "--model", folder).failsWithOneLine(1, "bench", "a folder; --model takes a file");
        Cli.run("tokenize", "--tokenizer", folder, "--data", "fashion-mnist", "-o", dir.resolve("t.bin").toString())
                .failsWithOneLine(1, "tokenize", "a folder; --tokenizer takes a file");
        Cli.run("train", "--tokenizer", folder, "--tokens", tok, "-o", dir.resolve("run").toString())
                .failsWithOneLine(1, "train", "a folder; --tokenizer takes a file");
        Cli.run("train", "--tokenizer", tok, "--tokens", folder, "-o", dir.resolve("run").toString())
                .failsWithOneLine(1, "train", "a folder; --tokens takes a file");
    }
}
