package ai.mvar.model;

import static ai.mvar.testing.FixtureSet.require;
import static ai.mvar.testing.Tolerance.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.mvar.nn.Precision;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import org.junit.jupiter.api.Test;

/** Weights cast once to fp16 give fp32 logits close to the reference (the GPU inference path). */
class HalfPrecisionTest {

    @Test
    void fp16WeightsGiveCloseFp32Logits() {
        FixtureSet set = ReferenceFixtures.sets().get(0);
        try (NDManager manager = Torch.newManager();
                StateDict ref = set.mvarTensors(manager.newSubManager());
                Transformer half = Transformer.load(set.transformerConfig(),
                        ref.extract("mvar", manager.newSubManager()), Precision.FP16)) {
            assertEquals(DataType.FLOAT16, half.weights().get("head.weight").getDataType());
            TransformerConfig c = set.transformerConfig();
            NDArray logits = half.logits(require(ref, "in.label"), require(ref, "out.x_in"), 0, c.refineStep(), Mode.MVAR);
            assertEquals(DataType.FLOAT32, logits.getDataType());
            assertClose(logits, require(ref, "out.logits.block"), 1e-2, set + " fp16 out.logits.block");
        }
    }
}
