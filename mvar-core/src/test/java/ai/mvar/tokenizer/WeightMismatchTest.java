package ai.mvar.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.nn.WeightMismatchException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A state dict that does not fit is refused with every offending key named at once. */
class WeightMismatchTest {

    @Test
    void listsMissingUnexpectedAndMisshapedKeysTogether() {
        VqVaeConfig config = VqVaeConfig.of(16, 4, 32, new ScaleSchedule(1, 2));
        try (NDManager m = Torch.newManager(); VqVae source = VqVae.random(config, m, 1)) {
            StateDict broken = new StateDict(m.newSubManager(), "broken.safetensors");
            for (String key : List.copyOf(source.weights().keys())) {
                if (!key.equals("quant_conv.bias")) {
                    broken.put(key, source.weights().get(key).duplicate());
                }
            }
            broken.put("decoder.conv_out.weight", m.zeros(new Shape(3, 32, 1, 1)));
            broken.put("encoder.extra.weight", m.zeros(new Shape(2)));
            broken.put("quantize.ema_vocab_hit_SV", m.zeros(new Shape(2, 16))); // a known buffer: ignored
            WeightMismatchException e = assertThrows(WeightMismatchException.class, () -> VqVae.load(config, broken));
            assertEquals(List.of("quant_conv.bias (4)"), e.missing());
            assertEquals(List.of("encoder.extra.weight"), e.unexpected());
            assertEquals(List.of("decoder.conv_out.weight: expected (3, 32, 3, 3), found (3, 32, 1, 1)"), e.misshaped());
            assertTrue(e.getMessage().startsWith("weights in broken.safetensors do not fit the model"), e.getMessage());
            broken.close();
        }
    }
}
