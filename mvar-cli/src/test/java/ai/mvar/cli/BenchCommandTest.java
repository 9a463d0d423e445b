package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mvar bench} on the tiny preset: both modes in forked JVMs. */
class BenchCommandTest {
    @TempDir
    static Path dir;

    static TinyModel tiny;

    @BeforeAll
    static void setUp() throws Exception {
        tiny = TinyModel.create(dir);
    }

    @Test
    void randomWeights() {
        Cli.Result r = Cli.run("bench", "--preset", tiny.preset.toString(), "--random", "--batch", "2", "--reps", "1").ok();
        assertTrue(r.out().contains("| VAR (block-causal, KV cache) |"), r.out());
        assertTrue(r.out().contains("| MVAR (scale-Markov + neighbourhood) |"), r.out());
        assertTrue(r.out().contains("| peak memory MiB, cold run | peak memory MiB, warm run | peak with weights MiB |"), r.out());
        assertTrue(r.out().matches("(?s).*\\| MVAR / VAR \\| \\d+\\.\\d\\d \\| \\d+\\.\\d\\d \\| \\d+\\.\\d\\d \\| \\d+\\.\\d\\d \\|.*"), r.out());
    }

    @Test
    void fp16OnTheCpu() {
        Cli.Result r = Cli.run("bench", "--preset", tiny.preset.toString(), "--random", "--batch", "2", "--reps", "1",
                "--precision", "fp16").ok();
        assertTrue(r.out().contains("fp16 on cpu"), r.out());
        assertTrue(r.out().contains("| MVAR / VAR |"), r.out());
    }

    @Test
    void modelFiles() {
        Cli.Result r = Cli.run("bench", "--tokenizer", tiny.tokenizer.toString(), "--model", tiny.transformer.toString(),
                "--reps", "1").ok();
        assertTrue(r.out().contains("weights of " + tiny.transformer), r.out());
        assertTrue(r.out().contains("| MVAR / VAR |"), r.out());
    }

    @Test
    void errors() {
        // Without --random the preset applies to the model files, by default the bundled Fashion-MNIST model.
        Cli.run("bench", "--preset", tiny.preset.toString()).failsWithOneLine(1, "bench", "does not fit preset 'tiny'");
        Cli.run("bench", "--random").failsWithOneLine(2, "bench", "missing --preset");
        Cli.run("bench", "--random", "--preset", tiny.preset.toString(), "--model", tiny.transformer.toString())
                .failsWithOneLine(2, "bench", "exclude each other");
        Cli.run("bench", "--random", "--preset", tiny.preset.toString(), "--rounds", "0")
                .failsWithOneLine(2, "bench", "--rounds must be at least 1, got 0");
        Cli.run("bench", "--model", tiny.transformer.toString(), "--tokenizer", tiny.tokenizer.toString(), "--depth", "3")
                .failsWithOneLine(2, "bench", "--depth");
        Cli.run("bench", "--model", dir.resolve("gone.safetensors").toString(), "--tokenizer", tiny.tokenizer.toString())
                .failsWithOneLine(1, "bench", "gone.safetensors");
        Cli.run("bench", "--random", "--preset", tiny.preset.toString(), "--precision", "bf16")
                .failsWithOneLine(2, "bench", "--precision bf16");
        Cli.run("bench", "--random", "--preset", tiny.preset.toString(), "--device", "gpu7")
                .failsWithOneLine(1, "bench", "device gpu7 is not available");
    }
}
