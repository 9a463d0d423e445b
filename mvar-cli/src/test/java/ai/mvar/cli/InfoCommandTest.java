package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.tokenizer.VqVae;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mvar info} on presets and model files. */
class InfoCommandTest {
    @TempDir
    static Path dir;

    static TinyModel tiny;

    @BeforeAll
    static void setUp() throws Exception {
        tiny = TinyModel.create(dir);
    }

    @Test
    void presetFile() {
        Cli.Result r = Cli.run("info", tiny.preset.toString(), "--batch", "4").ok();
        long tp = Transformer.spec(tiny.config.transformer()).parameterCount();
        long vp = VqVae.spec(tiny.config.tokenizer()).parameterCount();
        assertTrue(r.out().contains(String.format(Locale.ROOT, "transformer %,d", tp)), r.out());
        assertTrue(r.out().contains(String.format(Locale.ROOT, "tokenizer %,d", vp)), r.out());
        assertTrue(r.out().contains("patch_nums [1, 2, 4, 8]: 4 scales, 85 tokens"), r.out());
        assertTrue(r.out().contains("refine_step 2"), r.out());
        assertTrue(r.out().contains("batch of 4"), r.out());
        assertTrue(r.out().contains("KV cache"), r.out());
    }

    @Test
    void officialPresetByName() {
        Cli.Result r = Cli.run("info", "d16").ok();
        long params = Transformer.spec(TransformerConfig.official(16)).parameterCount();
        assertTrue(r.out().contains(String.format(Locale.ROOT, "transformer %,d", params)), r.out());
        assertTrue(r.out().contains("680 tokens"), r.out());
    }

    @Test
    void modelFiles() throws Exception {
        Cli.Result r = Cli.run("info", tiny.transformer.toString()).ok();
        assertTrue(r.out().contains("kind: transformer"), r.out());
        assertTrue(r.out().contains("trained as: MVAR"), r.out());
        assertTrue(r.out().contains("preset tiny"), r.out());
        Cli.Result tok = Cli.run("info", tiny.tokenizer.toString()).ok();
        assertTrue(tok.out().contains("kind: tokenizer"), tok.out());
        assertTrue(tok.out().contains("note: test"), tok.out());
        Path plain = TinyModel.plainTransformer(dir.resolve("plain.safetensors"), tiny.config);
        Cli.Result p = Cli.run("info", plain.toString()).ok();
        assertTrue(p.out().contains("not recorded"), p.out());
        Cli.Result withPreset = Cli.run("info", plain.toString(), "--preset", tiny.preset.toString()).ok();
        assertTrue(withPreset.out().contains("preset tiny"), withPreset.out());
    }

    @Test
    void errors() throws Exception {
        Cli.run("info", "no-such-preset").failsWithOneLine(2, "info", "no preset named 'no-such-preset'");
        Cli.run("info", dir.resolve("missing.json").toString()).failsWithOneLine(1, "info", "missing.json");
        Path garbage = dir.resolve("garbage.safetensors");
        Files.write(garbage, new byte[] {1, 2, 3});
        Cli.run("info", garbage.toString()).failsWithOneLine(1, "info", "garbage.safetensors");
        Cli.run("info").failsWithOneLine(2, "info", "Missing required parameter");
    }
}
