package ai.mvar.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.model.TransformerConfig;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVaeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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

    /**
     * The 512 and 1024 px presets are the official models of their depth on the reference's own
     * pyramid for that resolution ({@code --pn 512} and {@code --pn 1024} in {@code utils/arg_util.py}
     * of VAR and MVAR), with MVAR's refine_step 8 and k = 7, the official tokenizer, and the 256 px
     * preset's sampling settings.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "d16-512;  16; 512;  1_2_3_4_6_9_13_18_24_32;                2240",
        "d20-512;  20; 512;  1_2_3_4_6_9_13_18_24_32;                2240",
        "d24-512;  24; 512;  1_2_3_4_6_9_13_18_24_32;                2240",
        "d30-512;  30; 512;  1_2_3_4_6_9_13_18_24_32;                2240",
        "d16-1024; 16; 1024; 1_2_3_4_5_7_9_12_16_21_27_36_48_64; 9451"})
    void highResolutionPresetsAreTheOfficialModelsOnTheReferencePyramid(String name, int depth, int imageSize,
            String pn, int tokens) throws IOException {
        ScaleSchedule pyramid = new ScaleSchedule(java.util.Arrays.stream(pn.split("_")).mapToInt(Integer::parseInt).toArray());
        Preset p = PresetJson.read(CONFIGS.resolve(name + ".json"));
        Preset base = PresetJson.read(CONFIGS.resolve("d" + depth + ".json"));
        TransformerConfig o = TransformerConfig.official(depth);
        assertEquals(new TransformerConfig(o.depth(), o.width(), o.heads(), o.vocabSize(), o.classes(), o.latentChannels(),
                pyramid, 8, 7, true, 4.0), p.transformer());
        VqVaeConfig t = VqVaeConfig.official();
        assertEquals(VqVaeConfig.of(t.vocabSize(), t.latentChannels(), t.channels(), pyramid), p.tokenizer());
        assertEquals(imageSize, p.tokenizer().imageSize());
        assertEquals(tokens, p.transformer().schedule().length());
        assertEquals(base.sampling(), p.sampling());
        assertEquals(base.classNames(), p.classNames());
        assertEquals(name, p.name());
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
    void temperatureIsOptionalAndWrittenOnlyWhenItIsNotOne() throws IOException {
        String reference = Files.readString(CONFIGS.resolve("d16.json"));
        Preset plain = PresetJson.parse(reference, "d16.json");
        assertEquals(Temperature.NONE, plain.sampling().temperature(), "the reference's presets have no temperature");
        assertFalse(PresetJson.toJson(plain).contains("temperature"), "a temperature of 1 is not written");
        Preset warm = PresetJson.parse(reference.replace("\"top_k\"", "\"temperature\": 1.2, \"top_k\""), "warm.json");
        assertEquals(new Preset.SamplingDefaults(2.7, 1200, 0.99, Temperature.of(1.2)), warm.sampling());
        assertEquals(warm, PresetJson.parse(PresetJson.toJson(warm), "round trip"));
        String perScale = "[1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.0]";
        Preset coarse = PresetJson.parse(reference.replace("\"top_k\"", "\"temperature\": " + perScale + ", \"top_k\""),
                "coarse.json");
        assertEquals(1.3, coarse.sampling().temperature().at(8));
        assertEquals(1.0, coarse.sampling().temperature().at(9));
        assertEquals(coarse, PresetJson.parse(PresetJson.toJson(coarse), "round trip"));
        IllegalArgumentException tooFew = assertThrows(IllegalArgumentException.class, () -> PresetJson.parse(
                reference.replace("\"top_k\"", "\"temperature\": [1.3, 1.0], \"top_k\""), "few.json"));
        assertEquals("few.json: preset d16: sampling.temperature gives 2 values for a pyramid of 10 scales: give one value,"
                + " or one per scale", tooFew.getMessage());
        IllegalArgumentException cold = assertThrows(IllegalArgumentException.class,
                () -> PresetJson.parse(reference.replace("\"top_k\"", "\"temperature\": 0, \"top_k\""), "x.json"));
        assertEquals("x.json: key 'sampling.temperature' temperature must be > 0, got 0.0", cold.getMessage());
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
