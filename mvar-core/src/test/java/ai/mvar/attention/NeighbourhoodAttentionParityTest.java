package ai.mvar.attention;

import static ai.mvar.testing.FixtureSet.require;
import static ai.mvar.testing.Tolerance.assertParity;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The portable neighbourhood attention equals NATTEN's {@code na2d} on the fixture tensors. */
class NeighbourhoodAttentionParityTest {

    static List<FixtureSet> sets() {
        return ReferenceFixtures.sets();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void gatheredKernelMatchesNatten(FixtureSet set) {
        check(set, GatheredNeighbourhoodKernel.INSTANCE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void maskedKernelMatchesNatten(FixtureSet set) {
        check(set, MaskedNeighbourhoodKernel.INSTANCE);
    }

    private static void check(FixtureSet set, NeighbourhoodKernel kernel) {
        try (NDManager manager = Torch.newManager(); StateDict ref = set.mvarTensors(manager)) {
            NDArray q = require(ref, "in.na.q");
            int side = (int) q.getShape().get(1);
            float scale = (float) (1 / Math.sqrt(q.getShape().get(4)));
            NDArray out = kernel.forward(toHeadsFirst(q), toHeadsFirst(require(ref, "in.na.k")),
                    toHeadsFirst(require(ref, "in.na.v")), side, set.metaInt("kernel_size"), scale);
            NDArray expected = require(ref, "out.na");
            long[] s = expected.getShape().getShape();
            // [B, H, p*p, D] back to NATTEN's [B, p, p, H, D]
            NDArray natten = out.reshape(s[0], s[3], s[1], s[2], s[4]).transpose(0, 2, 3, 1, 4);
            assertParity(natten, expected, set + " out.na (" + kernel.name() + ")");
        }
    }

    /** NATTEN's {@code [B, p, p, H, D]} to the transformer's {@code [B, H, p*p, D]}. */
    static NDArray toHeadsFirst(NDArray x) {
        long[] s = x.getShape().getShape();
        return x.transpose(0, 3, 1, 2, 4).reshape(s[0], s[3], s[1] * s[2], s[4]);
    }
}
