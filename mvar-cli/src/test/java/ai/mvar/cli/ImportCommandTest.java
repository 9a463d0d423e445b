package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.ClassNames;
import ai.mvar.config.Preset;
import ai.mvar.config.PresetJson;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Torch;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mvar import} of the reference fixtures' PyTorch checkpoints, with the preset of the set they were saved from. */
class ImportCommandTest {
    @TempDir
    static Path dir;

    static Path fixtures;
    static Path presetFile;
    static Preset preset;

    @BeforeAll
    static void setUp() throws Exception {
        // Without the fixtures this fails, like every parity test: it never skips.
        fixtures = ReferenceFixtures.directory();
        FixtureSet set = ReferenceFixtures.checkpointSet();
        preset = new Preset(set.name(), set.vaeConfig(), set.transformerConfig(), new Preset.SamplingDefaults(1.5, 0, 0.9),
                ClassNames.named("numbered:" + set.transformerConfig().classes()));
        presetFile = dir.resolve("fixture.json");
        Files.writeString(presetFile, PresetJson.toJson(preset));
    }

    @Test
    void importsATrainerCheckpointWithItsPreset() throws Exception {
        Path out = dir.resolve("models/mvar.safetensors");
        Cli.Result r = Cli.run("import", fixtures.resolve("tiny-mvar-trainer.pth").toString(), "--kind", "transformer",
                "--preset", presetFile.toString(), "--out", out.toString()).ok();
        assertTrue(r.out().contains("dropped buffers"), r.out());
        assertTrue(r.out().contains("attn_bias_for_masking"), r.out());
        assertTrue(r.out().contains("  class_emb.weight"), r.out());
        ModelFile.Info info = ModelFile.info(out);
        assertEquals(ModelFile.Kind.TRANSFORMER, info.kind());
        assertEquals(Mode.MVAR, info.mode());
        assertEquals(preset, info.preset());
        assertEquals("tiny-mvar-trainer.pth", info.extra().get("source"));
        try (NDManager m = Torch.newManager();
                ModelFile.Loaded loaded = ModelFile.read(out, m);
                Transformer t = loaded.transformer(Precision.FP32)) {
            assertEquals(preset.transformer(), t.config());
        }
    }

    @Test
    void importsTheLegacyFormatWithoutAPresetAsAPlainFile() throws Exception {
        Path out = dir.resolve("legacy.safetensors");
        Cli.Result r = Cli.run("import", fixtures.resolve("tiny-mvar-legacy.pth").toString(), "--kind", "transformer",
                "--key", "", "--mode", "var", "--out", out.toString());
        // Without --preset the official shapes are expected: the tiny model does not fit them.
        r.failsWithOneLine(1, "import", "do not fit the model");
        assertFalse(Files.exists(out));
        Cli.run("import", fixtures.resolve("tiny-mvar-legacy.pth").toString(), "--kind", "transformer", "--key", "",
                "--mode", "var", "--preset", presetFile.toString(), "--out", out.toString()).ok();
        ModelFile.Info info = ModelFile.info(out);
        assertEquals(Mode.VAR, info.mode());
        Cli.Result described = Cli.run("info", out.toString()).ok();
        assertTrue(described.out().contains("kind: transformer"), described.out());
        assertTrue(described.out().contains("trained as: VAR"), described.out());
    }

    @Test
    void errors() {
        Cli.run("import", fixtures.resolve("tiny-mvar-trainer.pth").toString(), "--kind", "tokenizer", "--preset",
                presetFile.toString(), "--out", dir.resolve("x.safetensors").toString())
                .failsWithOneLine(1, "import", "do not fit the model");
        Cli.run("import", dir.resolve("absent.pth").toString(), "--kind", "transformer", "--out",
                dir.resolve("x.safetensors").toString()).failsWithOneLine(1, "import", "absent.pth: checkpoint not found");
        Cli.run("import", presetFile.toString(), "--kind", "transformer", "--preset", presetFile.toString(), "--out",
                dir.resolve("x.safetensors").toString()).failsWithOneLine(1, "import", "fixture.json");
        Cli.run("import", fixtures.resolve("tiny-mvar-trainer.pth").toString(), "--out", "x.safetensors")
                .failsWithOneLine(2, "import", "--kind");
        Cli.run("import", fixtures.resolve("tiny-mvar-trainer.pth").toString(), "--kind", "transformer", "--preset",
                presetFile.toString(), "--key", "no.such.key", "--out", dir.resolve("x.safetensors").toString())
                .failsWithOneLine(1, "import", "no.such.key");
    }
}
