package ai.mvar.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.tokenizer.ScaleSchedule;
import org.junit.jupiter.api.Test;

class PrecisionTest {
    private static final TransformerConfig TINY =
            new TransformerConfig(2, 32, 2, 16, 3, 4, new ScaleSchedule(new int[] {1, 2, 3}), 2, 3, true, 2.0);

    @Test
    void defaultsFollowTheDevice() {
        assertEquals(Precision.FP16, Precision.defaultFor(Device.gpu(1)));
        assertEquals(Precision.FP32, Precision.defaultFor(Device.cpu()));
        assertEquals("fp16", Precision.FP16.toString());
    }

    @Test
    void bf16IsRefusedBeforeAnyTensorExists() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, Precision.BF16::requireSupported);
        assertTrue(e.getMessage().contains("bf16") && e.getMessage().contains("fp16 or fp32"), e.getMessage());
        try (NDManager m = Torch.newManager()) {
            StateDict empty = new StateDict(m.newSubManager(), "bf16");
            assertThrows(IllegalArgumentException.class,
                    () -> Transformer.initialise(TINY, new InitParams(empty, 1), Precision.BF16).close());
            assertEquals(0, empty.size(), "no weight was created");
        }
    }

    @Test
    void freshWeightsAreCreatedInThePrecisionsType() {
        try (NDManager m = Torch.newManager()) {
            for (InitParams init : new InitParams[] {
                new InitParams(new StateDict(m.newSubManager(), "java"), 3),
                InitParams.fromEngine(new StateDict(m.newSubManager(), "engine"), 3)}) {
                try (Transformer t = Transformer.initialise(TINY, init, Precision.FP16)) {
                    assertEquals(Precision.FP16, t.precision());
                    for (NDArray w : t.weights().tensors().values()) {
                        assertEquals(DataType.FLOAT16, w.getDataType(), w.getName());
                    }
                    NDArray qkv = t.weights().get("blocks.0.attn.mat_qkv.weight").toType(DataType.FLOAT32, false);
                    float std = qkv.sub(qkv.mean()).square().mean().sqrt().getFloat();
                    assertTrue(std > 0.012 && std < 0.02, "truncated normal, std 0.02: " + std);
                    assertTrue(qkv.abs().max().getFloat() <= 0.0401f);
                }
            }
        }
    }
}
