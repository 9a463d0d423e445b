package ai.mvar.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.model.TransformerConfig;
import ai.mvar.tokenizer.VqVaeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class PresetJsonTest {
    /** Surefire runs in the module folder; the presets live at the repository root. */
    private static final Path CONFIGS = Path.of("..", "configs");

    @Test
    void officialPresetsAreTheReferenceModels() throws IOException {
        for (int depth : new int[] {16, 20, 24, 30}) {
            Preset p = PresetJson.read(CONFIGS.resolve("d" + depth + ".json"));
            assertEquals(VqVaeConfig.official(), p.tokenizer());
            assertEquals(TransformerConfig.official(depth), p.transformer());
            assertEquals(1000, p.classNames().size());
            assertEquals(256, p.tokenizer().imageSize());
        }
        assertEquals(new Preset.SamplingDefaults(2.7, 1200, 0.99), PresetJson.read(CONFIGS.resolve("d16.json")).sampling());
    }

    @Test
    void everyPresetRoundTrips() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(CONFIGS)) {
            files = s.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
        assertTrue(files.size() >= 5, "presets found: " + files);
        for (Path f : files) {
            Preset p = PresetJson.read(f);
            assertEquals(p, PresetJson.parse(PresetJson.toJson(p), "round trip of " + f));
        }
    }

    @Test
    void fashionMnistIsNativeSize() throws IOException {
        Preset p = PresetJson.read(CONFIGS.resolve("fashion-mnist.json"));
        assertEquals(28, p.tokenizer().imageSize());
        assertEquals("Ankle boot", p.classNames().get(9));
        assertEquals(9, p.classIndex("ankle"));
    }

    @Test
    void errorsNameTheSourceAndKey() throws IOException {
        String good = Files.readString(CONFIGS.resolve("fashion-mnist.json"));
        IllegalArgumentException wrongType = assertThrows(IllegalArgumentException.class,
                () -> PresetJson.parse(good.replace("\"depth\": 4", "\"depth\": \"four\""), "x.json"));
        assertTrue(wrongType.getMessage().contains("x.json") && wrongType.getMessage().contains("transformer.depth"),
                wrongType.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> PresetJson.parse(good.replace("\"depth\"", "\"dept\""), "x.json"));
        assertTrue(unknown.getMessage().contains("transformer.dept"), unknown.getMessage());
        IllegalArgumentException invalid = assertThrows(IllegalArgumentException.class,
                () -> PresetJson.parse(good.replace("\"num_heads\": 4", "\"num_heads\": 3"), "x.json"));
        assertTrue(invalid.getMessage().startsWith("x.json: ") && invalid.getMessage().contains("num_heads"),
                invalid.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> PresetJson.read(CONFIGS.resolve("nope.json")));
    }
}
