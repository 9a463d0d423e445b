package ai.mvar.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.ParameterSpec;
import ai.mvar.testing.OfficialShapes;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The full-size tokenizer has exactly the keys and shapes of the official {@code vae_ch160v4096z32}. */
class OfficialTokenizerShapesTest {

    @Test
    void officialConfigMatchesTheOfficialStateDict() {
        ParameterSpec spec = VqVae.spec(VqVaeConfig.official());
        Map<String, Shape> ours = new TreeMap<>(spec.shapes());
        ours.putAll(spec.buffers());
        assertEquals(new TreeMap<>(OfficialShapes.of("vae_ch160v4096z32")), ours);
        assertEquals(324, ours.size());
    }
}
