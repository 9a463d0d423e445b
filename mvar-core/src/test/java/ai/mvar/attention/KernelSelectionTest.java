package ai.mvar.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.ScaleSchedule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The rule that keeps a fused kernel without autograd history out of training: an accelerator's
 * kernel found through the ServiceLoader runs inference, and is declined while gradients are
 * recorded, in favour of a differentiable one. {@link DetachedKernelProvider} plays the CUDA kernel.
 */
class KernelSelectionTest {
    private static final Shape SHAPE = new Shape(2, 3, 25, 8); // a 5 x 5 map

    @BeforeEach
    void enable() {
        DetachedKernelProvider.ENABLED.set(true);
        DetachedKernelProvider.CALLS.set(0);
    }

    @AfterEach
    void disable() {
        DetachedKernelProvider.ENABLED.set(false);
    }

    @Test
    void theAcceleratorRunsInference() {
        try (NDManager m = Torch.newManager()) {
            NDArray q = m.randomNormal(SHAPE);
            assertSame(DetachedKernelProvider.KERNEL, NeighbourhoodAttention.kernelFor(q, 3));
            new NeighbourhoodAttention(5, 3).attend(q, q, q, 0.3f);
            assertEquals(1, DetachedKernelProvider.CALLS.get());
        }
    }

    @Test
    void whileGradientsAreRecordedADifferentiableKernelRuns() {
        try (NDManager m = Torch.newManager()) {
            NDArray q = m.randomNormal(SHAPE);
            q.setRequiresGradient(true);
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NeighbourhoodKernel chosen = NeighbourhoodAttention.kernelFor(q, 3);
                assertFalse(chosen == DetachedKernelProvider.KERNEL, "the detached kernel was chosen under autograd");
                assertTrue(chosen.differentiable());
                NDArray out = new NeighbourhoodAttention(5, 3).attend(q, q, q, 0.3f);
                gc.backward(out.square().sum());
            }
            assertEquals(0, DetachedKernelProvider.CALLS.get());
            assertTrue(q.getGradient().abs().sum().getFloat() > 0, "gradients reached q");
            assertSame(DetachedKernelProvider.KERNEL, NeighbourhoodAttention.kernelFor(q, 3), "inference again after the collector");
        }
    }

    /** Inside the transformer: a teacher-forced neighbourhood scale uses the accelerator only outside training. */
    @Test
    void theTransformerTrainsOnADifferentiableKernel() {
        TransformerConfig c = new TransformerConfig(1, 16, 2, 11, 2, 4, new ScaleSchedule(new int[] {1, 2, 5}), 2, 3, true, 2.0);
        try (NDManager m = Torch.newManager(); Transformer t = Transformer.random(c, m, 3)) {
            NDArray labels = m.create(new long[] {0, 1});
            NDArray teacher = m.randomNormal(new Shape(2, 4 + 25, 4));
            t.logits(labels, teacher, 2, 3, Mode.MVAR);
            assertEquals(1, DetachedKernelProvider.CALLS.get(), "one block, one neighbourhood attention");
            NDArray qkv = t.weights().get("blocks.0.attn.mat_qkv.weight");
            t.weights().tensors().values().forEach(w -> w.setRequiresGradient(true));
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray logits = t.logitsUnscoped(labels, teacher, 2, 3, Mode.MVAR);
                gc.backward(logits.square().mean());
            }
            assertEquals(1, DetachedKernelProvider.CALLS.get(), "the training pass declined the detached kernel");
            assertTrue(qkv.getGradient().abs().sum().getFloat() > 0, "q, k and v projections got gradients through attention");
        }
    }
}
