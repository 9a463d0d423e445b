package ai.mvar.sampling;

import ai.djl.Device;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import ai.mvar.testing.SamplingParity;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Greedy (top-k 1) guided sampling reproduces the reference's f_hat and images, MVAR and VAR. */
class GreedySamplingParityTest {

    static List<FixtureSet> sets() {
        return ReferenceFixtures.sets();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void mvarGreedySampleMatchesTheReference(FixtureSet set) {
        SamplingParity.mvar(set, Device.cpu());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void varGreedySampleMatchesTheReference(FixtureSet set) {
        SamplingParity.var(set, Device.cpu());
    }
}
