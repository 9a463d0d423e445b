package ai.mvar.model;

import static ai.mvar.testing.FixtureSet.require;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.mvar.nn.Precision;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.LogitParity;
import ai.mvar.testing.ReferenceFixtures;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * fp16 weights and products, fp32 norms, softmax, residual stream and logits (the GPU inference
 * path, here on the CPU): every logit tensor of every fixture set within 1e-2 of the fp32 reference.
 */
class HalfPrecisionTest {
    static final double FP16_LOGITS = 1e-2;

    static List<FixtureSet> sets() {
        return ReferenceFixtures.sets();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void mvarLogitsInFp16(FixtureSet set) {
        LogitParity.mvar(set, Device.cpu(), Precision.FP16, FP16_LOGITS);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void varLogitsInFp16(FixtureSet set) {
        LogitParity.var(set, Device.cpu(), Precision.FP16, FP16_LOGITS);
    }

    /** What autocast keeps in fp32 stays fp32 in an fp16 model: the residual stream between blocks. */
    @Test
    void weightsAreFp16AndTheStreamFp32() {
        FixtureSet set = ReferenceFixtures.sets().get(0);
        try (NDManager manager = Torch.newManager();
                StateDict ref = set.mvarTensors(manager.newSubManager());
                Transformer half = Transformer.load(set.transformerConfig(), ref.extract("mvar", manager.newSubManager()),
                        Precision.FP16)) {
            assertEquals(DataType.FLOAT16, half.weights().get("head.weight").getDataType());
            NDArray cond = half.classEmbedding(require(ref, "in.label"));
            assertEquals(DataType.FLOAT32, cond.getDataType());
            assertEquals(DataType.FLOAT32, half.startTokens(cond).getDataType());
            NDArray scale1 = require(ref, "out.x_in").get(new NDIndex(":, 0:{}", set.schedule().tokens(1)));
            assertEquals(DataType.FLOAT32, half.embedTokens(scale1, 1, 2).getDataType());
        }
    }
}
