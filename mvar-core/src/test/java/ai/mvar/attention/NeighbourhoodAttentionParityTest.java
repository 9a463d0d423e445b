package ai.mvar.attention;

import static ai.mvar.testing.FixtureSet.require;
import static ai.mvar.testing.Tolerance.assertParity;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tiled neighbourhood attention equals NATTEN's {@code na2d} on the fixture tensors of every
 * fixture set, with the cost model's tile and with tiles that split the map every way: one query,
 * whole rows, squares that do not divide the map, and the whole map (dense under the mask).
 */
class NeighbourhoodAttentionParityTest {

    static List<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (FixtureSet set : ReferenceFixtures.sets()) {
            for (String tile : new String[] {"auto", "1x1", "1xrow", "3xrow", "5x5", "7x3", "whole"}) {
                cases.add(Arguments.of(set, tile));
            }
        }
        return cases;
    }

    @ParameterizedTest(name = "{0} tile {1}")
    @MethodSource("cases")
    void tiledKernelMatchesNatten(FixtureSet set, String tile) {
        try (NDManager manager = Torch.newManager(); StateDict ref = set.mvarTensors(manager)) {
            NDArray q = require(ref, "in.na.q");
            int side = (int) q.getShape().get(1);
            int k = set.metaInt("kernel_size");
            float scale = (float) (1 / Math.sqrt(q.getShape().get(4)));
            NDArray qh = toHeadsFirst(q);
            NDArray kh = toHeadsFirst(require(ref, "in.na.k"));
            NDArray vh = toHeadsFirst(require(ref, "in.na.v"));
            TiledNeighbourhoodKernel kernel = TiledNeighbourhoodKernel.INSTANCE;
            NDArray out = tile.equals("auto") ? kernel.forward(qh, kh, vh, side, k, scale)
                    : kernel.forward(qh, kh, vh, side, k, scale, tiling(tile, side));
            NDArray expected = require(ref, "out.na");
            long[] s = expected.getShape().getShape();
            // [B, H, p*p, D] back to NATTEN's [B, p, p, H, D]
            NDArray natten = out.reshape(s[0], s[3], s[1], s[2], s[4]).transpose(0, 2, 3, 1, 4);
            assertParity(natten, expected, set + " out.na (tiled, " + tile + ")");
        }
    }

    static NeighbourhoodTiling tiling(String tile, int side) {
        switch (tile) {
            case "whole":
                return new NeighbourhoodTiling(side, side);
            case "1xrow":
                return new NeighbourhoodTiling(1, side);
            case "3xrow":
                return new NeighbourhoodTiling(3, side);
            default:
                String[] rc = tile.split("x");
                return new NeighbourhoodTiling(Integer.parseInt(rc[0]), Integer.parseInt(rc[1]));
        }
    }

    /** NATTEN's {@code [B, p, p, H, D]} to the transformer's {@code [B, H, p*p, D]}. */
    static NDArray toHeadsFirst(NDArray x) {
        long[] s = x.getShape().getShape();
        return x.transpose(0, 3, 1, 2, 4).reshape(s[0], s[3], s[1] * s[2], s[4]);
    }
}
