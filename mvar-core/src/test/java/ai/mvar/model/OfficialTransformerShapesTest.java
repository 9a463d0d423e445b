package ai.mvar.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.types.Shape;
import ai.mvar.config.PresetJson;
import ai.mvar.nn.ParameterSpec;
import ai.mvar.testing.OfficialShapes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The presets d16-d30 have exactly the official VAR and MVAR state-dict keys and shapes; the 512
 * and 1024 px presets the same, but with the pyramid's L tokens and K scales where the official
 * 256 px models have 680 and 10 (the reference sizes pos_1LC, lvl_1L, attn_bias_for_masking and
 * lvl_embed from patch_nums, nothing else).
 */
class OfficialTransformerShapesTest {

    @ParameterizedTest(name = "{0}-d{1}")
    @CsvSource({"var,16", "var,20", "var,24", "var,30", "mvar,16", "mvar,20", "mvar,24", "mvar,30"})
    void presetMatchesTheOfficialStateDict(String family, int depth) {
        ParameterSpec spec = Transformer.spec(TransformerConfig.official(depth));
        Map<String, Shape> ours = new TreeMap<>(spec.shapes());
        ours.putAll(spec.buffers());
        assertEquals(new TreeMap<>(OfficialShapes.of(family + "-d" + depth)), ours);
    }

    @ParameterizedTest(name = "{0}-{1}")
    @CsvSource({"var,d16-512,16", "var,d20-512,20", "var,d24-512,24", "var,d30-512,30", "mvar,d16-512,16",
        "mvar,d30-512,30", "var,d16-1024,16", "mvar,d16-1024,16"})
    void highResolutionPresetsHaveTheOfficialShapesAtTheirPyramid(String family, String preset, int depth)
            throws IOException {
        TransformerConfig config = PresetJson.read(Path.of("..", "configs", preset + ".json")).transformer();
        long tokens = config.schedule().length();
        long scales = config.schedule().scales();
        Map<String, Shape> expected = new TreeMap<>();
        OfficialShapes.of(family + "-d" + depth).forEach((key, shape) -> {
            long[] dims = shape.getShape();
            if (key.equals("lvl_embed.weight")) {
                dims[0] = scales;
            } else {
                dims = Arrays.stream(dims).map(d -> d == 680 ? tokens : d).toArray();
            }
            expected.put(key, new Shape(dims));
        });
        ParameterSpec spec = Transformer.spec(config);
        Map<String, Shape> ours = new TreeMap<>(spec.shapes());
        ours.putAll(spec.buffers());
        assertEquals(expected, ours);
    }
}
