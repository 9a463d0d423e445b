package ai.mvar.model;

import ai.djl.Device;
import ai.mvar.nn.Precision;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.LogitParity;
import ai.mvar.testing.ReferenceFixtures;
import ai.mvar.testing.Tolerance;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Teacher-forced logits of MVAR (block-diagonal and neighbourhood) and VAR (block-causal) match the reference. */
class TransformerParityTest {

    static List<FixtureSet> sets() {
        return ReferenceFixtures.sets();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void mvarLogitsMatchTheReference(FixtureSet set) {
        LogitParity.mvar(set, Device.cpu(), Precision.FP32, Tolerance.PARITY);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void varLogitsMatchTheReference(FixtureSet set) {
        LogitParity.var(set, Device.cpu(), Precision.FP32, Tolerance.PARITY);
    }
}
