package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
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
 * The DJL path: GPU tensors of the PyTorch engine in, the kernel on their memory, against
 * {@code out.na}. Needs a GPU build of DJL's PyTorch engine and a CUDA device; skipped otherwise.
 */
class CudaNeighbourhoodKernelDjlGpuTest {

    @Test
    void fixtureOnEngineGpuTensors() {
        assumeTrue(Torch.engine().getGpuCount() > 0, "DJL's PyTorch engine sees no GPU");
        CudaNeighbourhoodKernel kernel = new CudaNeighbourhoodKernel();
        for (FixtureSet set : ReferenceFixtures.sets()) {
            try (NDManager gpu = Torch.newManager(Device.gpu()); StateDict sd = set.mvarTensors(gpu)) {
                NDArray q = layout(FixtureSet.require(sd, "in.na.q"));
                NDArray k = layout(FixtureSet.require(sd, "in.na.k"));
                NDArray v = layout(FixtureSet.require(sd, "in.na.v"));
                NDArray expected = layout(FixtureSet.require(sd, "out.na"));
                int side = (int) Math.round(Math.sqrt(q.getShape().get(2)));
                float scale = (float) (1 / Math.sqrt(q.getShape().get(3)));
                int ks = set.metaInt("kernel_size");
                assertTrue(kernel.supports(q), "kernel declines " + q.getDevice() + " " + q.getDataType());
                Tolerance.assertParity(kernel.forward(q, k, v, side, ks, scale), expected, set + " fp32");
                NDArray half = kernel.forward(q.toType(DataType.FLOAT16, false), k.toType(DataType.FLOAT16, false),
                        v.toType(DataType.FLOAT16, false), side, ks, scale);
                Tolerance.assertClose(half.toType(DataType.FLOAT32, false), expected, 1e-2, set + " fp16");
            }
        }
    }

    /** [B, p, p, heads, D] on the device to [B, heads, p * p, D]; the transpose is not contiguous. */
    private static NDArray layout(NDArray a) {
        long[] s = a.getShape().getShape();
        return a.toDevice(Device.gpu(), false).transpose(0, 3, 1, 2, 4).reshape(s[0], s[3], s[1] * s[2], s[4]);
    }
}
