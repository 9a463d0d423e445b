package ai.mvar.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.mvar.nn.Scope;
import ai.mvar.nn.Torch;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GradientLeavesTest {

    private static Map<String, NDArray> weights(NDManager m) {
        Map<String, NDArray> w = new LinkedHashMap<>();
        w.put("used", m.create(new float[] {1, 2, 3}));
        w.put("times_zero", m.create(new float[] {4, 5}));
        w.put("unused", m.create(new float[] {6}));
        return w;
    }

    /** loss = sum(used^2) + 0 * sum(times_zero); "unused" takes no part. */
    private static void backward(GradientLeaves leaves) {
        Scope.run(() -> {
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray used = leaves.stateDict().get("used");
                NDArray zero = leaves.stateDict().get("times_zero");
                gc.backward(used.square().sum().add(zero.sum().mul(zero.getManager().zeros(new Shape()))));
            }
        });
    }

    @Test
    void aLeafNoBackwardPassReachedHasNoGradientUnlikeAZeroGradient() {
        try (NDManager m = Torch.newManager()) {
            Map<String, NDArray> w = weights(m);
            try (GradientLeaves leaves = GradientLeaves.of(w, DataType.FLOAT32, Device.cpu())) {
                assertNull(leaves.gradient("used"), "no backward pass yet");
                backward(leaves);
                Scope.run(() -> {
                    assertArrayEquals(new float[] {2, 4, 6}, leaves.gradient("used").toFloatArray());
                    NDArray zero = leaves.gradient("times_zero");
                    assertNotNull(zero, "reached with a zero contribution: PyTorch's grad is a zero tensor, not None");
                    assertArrayEquals(new float[] {0, 0}, zero.toFloatArray());
                    assertNull(leaves.gradient("unused"), "never reached: PyTorch's grad is None");
                });
                backward(leaves);
                Scope.run(() -> assertArrayEquals(new float[] {4, 8, 12}, leaves.gradient("used").toFloatArray(),
                        "a second pass accumulates"));
            }
            try (GradientLeaves next = GradientLeaves.of(w, DataType.FLOAT32, Device.cpu())) {
                assertNull(next.gradient("used"), "the next update starts without gradients");
            }
        }
    }

    @Test
    void fp32LeavesAliasTheMasterWeightsOtherTypesAreCopies() {
        try (NDManager m = Torch.newManager()) {
            Map<String, NDArray> w = weights(m);
            try (GradientLeaves same = GradientLeaves.of(w, DataType.FLOAT32, Device.cpu());
                    GradientLeaves half = GradientLeaves.of(w, DataType.FLOAT16, Device.cpu())) {
                w.get("used").subi(1);
                assertArrayEquals(new float[] {0, 1, 2}, same.stateDict().get("used").toFloatArray(),
                        "the optimizer's in-place update is what the alias computes with");
                NDArray h = half.stateDict().get("used");
                assertEquals(DataType.FLOAT16, h.getDataType());
                assertArrayEquals(new float[] {1, 2, 3}, h.toType(DataType.FLOAT32, false).toFloatArray());
                assertArrayEquals(new float[] {0, 1, 2}, w.get("used").toFloatArray());
            }
        }
    }

    @Test
    void closingFreesLeavesAndGradients() {
        try (NDManager m = Torch.newManager()) {
            Map<String, NDArray> w = weights(m);
            int before = m.getManagedArrays().size();
            for (int i = 0; i < 5; i++) {
                try (GradientLeaves leaves = GradientLeaves.of(w, DataType.FLOAT16, Device.cpu())) {
                    backward(leaves);
                    leaves.gradient("used");
                }
            }
            assertEquals(before, m.getManagedArrays().size());
        }
    }
}
