package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import ai.mvar.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * The double-precision reference (which the GPU tests compare the kernels with) reproduces
 * {@code out.na} of every fixture set: the window rule and layout are those of NATTEN.
 */
class NaReferenceFixtureTest {

    /** [B, p, p, heads, D] as [B * heads, p * p, D] doubles, the kernels' layout. */
    static double[] kernelLayout(NDArray a) {
        return a.transpose(0, 3, 1, 2, 4).toType(DataType.FLOAT64, false).toDoubleArray();
    }

    @Test
    void referenceReproducesOutNa() {
        for (FixtureSet set : ReferenceFixtures.sets()) {
            try (NDManager manager = Torch.newManager(); StateDict sd = set.mvarTensors(manager)) {
                NDArray q = FixtureSet.require(sd, "in.na.q");
                long[] shape = q.getShape().getShape();
                assertEquals(5, shape.length, set + " in.na.q rank");
                int batch = (int) shape[0];
                int side = (int) shape[1];
                int heads = (int) shape[3];
                int d = (int) shape[4];
                int ks = set.metaInt("kernel_size");
                NaReference ref = new NaReference(batch * heads, side, ks, d, 1 / Math.sqrt(d));
                double[] out = ref.forward(kernelLayout(q), kernelLayout(FixtureSet.require(sd, "in.na.k")),
                        kernelLayout(FixtureSet.require(sd, "in.na.v"))).out();
                double err = NaReference.relativeError(out, kernelLayout(FixtureSet.require(sd, "out.na")));
                assertTrue(err <= Tolerance.PARITY, set + ": relative error " + err + " > " + Tolerance.PARITY);
            }
        }
    }
}
