package ai.mvar.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.mvar.nn.Functions;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Scope;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.Tolerance;
import ai.mvar.tokenizer.ScaleSchedule;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Gradients through an fp16 model (mixed-precision training): every cast between its fp16 products
 * and its fp32 norms, softmax, residual stream and logits is an autograd step, so every parameter
 * gets the gradient the fp32 model gives it, to fp16's precision.
 */
class HalfPrecisionGradientTest {
    private static final TransformerConfig CONFIG = new TransformerConfig(2, 64, 2, 64, 3, 8,
            new ScaleSchedule(1, 2, 4, 8), 2, 3, true, 4.0);

    @Test
    void castsAreAutogradStepsBothWays() {
        try (NDManager m = Torch.newManager()) {
            NDArray w = m.create(new float[] {0.5f, -1.25f, 2f}).toType(DataType.FLOAT16, false);
            w.setRequiresGradient(true);
            NDArray c = m.create(new float[] {3f, 1f, -2f});
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray up = Functions.fp32(w.mul(w)); // fp16 -> fp32
                assertEquals(DataType.FLOAT32, up.getDataType());
                NDArray down = Functions.cast(up.mul(c), DataType.FLOAT16); // fp32 -> fp16
                gc.backward(Functions.fp32(down).sum());
            }
            // d/dw sum(c * w^2) = 2 c w
            assertArrayEquals(new float[] {3f, -2.5f, -8f}, w.getGradient().toType(DataType.FLOAT32, false).toFloatArray());
        }
    }

    @ParameterizedTest(name = "{0} [{1}, {2})")
    @CsvSource({"VAR, 0, 4", "MVAR, 0, 2", "MVAR, 3, 4"})
    void everyParameterGetsTheFp32GradientToFp16Precision(Mode mode, int from, int to) {
        try (NDManager m = Torch.newManager(); Transformer init = Transformer.random(CONFIG, m, 4)) {
            NDArray labels = m.create(new long[] {0, 2, 3});
            NDArray teacher = m.randomNormal(new Shape(3, CONFIG.schedule().length() - 1, CONFIG.latentChannels()));
            NDArray probe = m.randomNormal(new Shape(3, CONFIG.schedule().begin(to) - CONFIG.schedule().begin(from),
                    CONFIG.vocabSize()));
            Map<String, float[]> full = gradients(init, Precision.FP32, labels, teacher, probe, mode, from, to);
            Map<String, float[]> half = gradients(init, Precision.FP16, labels, teacher, probe, mode, from, to);
            assertEquals(full.keySet(), half.keySet(), "the same parameters are reached");
            for (String k : full.keySet()) {
                double err = Tolerance.relativeError(half.get(k), full.get(k));
                assertTrue(err < 2e-2, k + ": fp16 gradient differs from fp32 by " + err);
            }
        }
    }

    /** Gradients of {@code sum(logits * probe)} with respect to leaves holding {@code init}'s weights in {@code p}. */
    private static Map<String, float[]> gradients(Transformer init, Precision p, NDArray labels, NDArray teacher,
            NDArray probe, Mode mode, int from, int to) {
        Map<String, float[]> out = new LinkedHashMap<>();
        NDManager m = labels.getManager();
        StateDict leaves = new StateDict(m.newSubManager(), "leaves " + p);
        init.weights().tensors().forEach((k, v) -> {
            NDArray leaf = v.toType(p.dataType(), true);
            leaf.setRequiresGradient(true);
            leaves.put(k, leaf);
        });
        try (Transformer t = Transformer.load(CONFIG, leaves, p)) {
            Scope.run(() -> {
                try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                    NDArray logits = t.logitsUnscoped(labels, teacher, from, to, mode);
                    assertEquals(DataType.FLOAT32, logits.getDataType());
                    gc.backward(logits.mul(probe).sum());
                }
                leaves.tensors().forEach((k, leaf) -> {
                    NDArray g = JniUtils.getGradient((PtNDArray) leaf);
                    if (g != null) {
                        assertEquals(p.dataType(), g.getDataType(), k);
                        out.put(k, g.toType(DataType.FLOAT32, false).toFloatArray());
                    }
                });
            });
        }
        assertNotNull(out.get("head.weight"));
        return out;
    }
}
