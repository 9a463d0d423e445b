package ai.mvar.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.ParameterSpec;
import ai.mvar.testing.OfficialShapes;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The presets d16-d30 have exactly the official VAR and MVAR state-dict keys and shapes. */
class OfficialTransformerShapesTest {

    @ParameterizedTest(name = "{0}-d{1}")
    @CsvSource({"var,16", "var,20", "var,24", "var,30", "mvar,16", "mvar,20", "mvar,24", "mvar,30"})
    void presetMatchesTheOfficialStateDict(String family, int depth) {
        ParameterSpec spec = Transformer.spec(TransformerConfig.official(depth));
        Map<String, Shape> ours = new TreeMap<>(spec.shapes());
        ours.putAll(spec.buffers());
        assertEquals(new TreeMap<>(OfficialShapes.of(family + "-d" + depth)), ours);
    }
}
