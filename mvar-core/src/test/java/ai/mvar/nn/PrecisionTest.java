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

    /** Autocast's rule inside the ops: norms and softmax take fp16 and give fp32; a linear layer computes in its weight's type. */
    @Test
    void normsAndSoftmaxComputeInFp32AndLinearInItsWeightsType() {
        try (NDManager m = Torch.newManager()) {
            NDArray x = m.randomNormal(0, 3, new ai.djl.ndarray.types.Shape(4, 64), DataType.FLOAT32, Device.cpu());
            NDArray half = x.toType(DataType.FLOAT16, false);
            for (NDArray[] pair : new NDArray[][] {
                {Functions.layerNorm(half, 1e-6f), Functions.layerNorm(x, 1e-6f)},
                {Functions.softmax(half, -1), Functions.softmax(x, -1)},
                {Functions.l2Normalize(half), Functions.l2Normalize(x)}}) {
                assertEquals(DataType.FLOAT32, pair[0].getDataType());
                float err = pair[0].sub(pair[1]).abs().max().getFloat() / pair[1].abs().max().getFloat();
                assertTrue(err < 2e-3, "fp16 input rounding only: " + err);
            }
            StateDict sd = new StateDict(m.newSubManager(), "linear");
            Linear linear = new Linear(new InitParams(sd, 1).inType(DataType.FLOAT16).root(), 64, 8, true);
            assertEquals(DataType.FLOAT16, linear.forward(x).getDataType(), "fp32 input cast to the fp16 weight");
        }
    }
}
