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
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Gradients through an fp16 model (mixed-precision training): every cast between its fp16 products
 * and its fp32 norms, softmax, residual stream and logits is an autograd step, so every parameter
 * gets the gradient the fp32 model gives it, to fp16's precision.
 *
 * <p>"fp16's precision" depends on the parameter. A gradient is a sum over the batch, the tokens
 * and (for broadcast parameters) more axes; when its terms cancel, fp16's relative rounding of each
 * term becomes a much larger relative error of the sum. The attention temperatures
 * ({@code scale_mul_1H11}) are such sums (over B x N x head_dim terms, and softmax is blind to a
 * shift of a row's scores): at initialisation their fp32 gradient alone moves by 1-10% when every
 * weight moves by one fp16 rounding, while weight matrices move by ~0.05%. So each parameter's
 * tolerance is measured, as PyTorch's fused-attention tests derive theirs from a low-precision
 * reference: the fp32 gradient's own deviation when every weight is multiplied by 1 +- u (u = 2^-11,
 * fp16's unit roundoff, random signs, two draws), at least u, times {@link #FUDGE}. A systematic
 * error of the fp16 path (a cut graph, a missing factor) is not in that sensitivity and fails;
 * well-conditioned parameters are held to ~1%.
 */
class HalfPrecisionGradientTest {
    private static final TransformerConfig CONFIG = new TransformerConfig(2, 64, 2, 64, 3, 8,
            new ScaleSchedule(1, 2, 4, 8), 2, 3, true, 4.0);
    /** fp16's unit roundoff: the largest relative error of one rounding to nearest. */
    private static final double U16 = Math.scalb(1.0, -11);
    /**
     * fp16 rounds at every product and cast, not only the weights: its error was at most 3.2 times
     * the perturbation's deviation over 16 draws of teacher and probe in each of the three cases.
     */
    private static final double FUDGE = 8;

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
            m.getEngine().setRandomSeed(5); // the same teacher and probe whatever the initialisation drew
            NDArray labels = m.create(new long[] {0, 2, 3});
            NDArray teacher = m.randomNormal(new Shape(3, CONFIG.schedule().length() - 1, CONFIG.latentChannels()));
            NDArray probe = m.randomNormal(new Shape(3, CONFIG.schedule().begin(to) - CONFIG.schedule().begin(from),
                    CONFIG.vocabSize()));
            Map<String, float[]> full = gradients(init, Precision.FP32, labels, teacher, probe, mode, from, to, 0);
            Map<String, float[]> half = gradients(init, Precision.FP16, labels, teacher, probe, mode, from, to, 0);
            List<Map<String, float[]>> perturbed = List.of(
                    gradients(init, Precision.FP32, labels, teacher, probe, mode, from, to, 1),
                    gradients(init, Precision.FP32, labels, teacher, probe, mode, from, to, 2));
            assertEquals(full.keySet(), half.keySet(), "the same parameters are reached");
            for (String k : full.keySet()) {
                double sensitivity = U16;
                for (Map<String, float[]> p : perturbed) {
                    sensitivity = Math.max(sensitivity, Tolerance.relativeError(p.get(k), full.get(k)));
                }
                double tolerance = FUDGE * sensitivity;
                double err = Tolerance.relativeError(half.get(k), full.get(k));
                System.out.printf("fp16 gradient %-30s relative error %.2e (tolerance %.2e)%n", k, err, tolerance);
                assertTrue(tolerance < 1, k + ": a tolerance of " + tolerance + " would pass a missing gradient");
                assertTrue(err <= tolerance, k + ": fp16 gradient differs from fp32 by " + err + ", more than " + FUDGE
                        + " x its fp32 sensitivity to one fp16 rounding of the weights (" + sensitivity + ")");
            }
        }
    }

    /**
     * Gradients of {@code sum(logits * probe)} with respect to leaves holding {@code init}'s weights in
     * {@code p}; with {@code perturbation > 0}, each weight multiplied by {@code 1 +- u} first, the
     * signs drawn from that seed.
     */
    private static Map<String, float[]> gradients(Transformer init, Precision p, NDArray labels, NDArray teacher,
            NDArray probe, Mode mode, int from, int to, int perturbation) {
        Map<String, float[]> out = new LinkedHashMap<>();
        NDManager m = labels.getManager();
        StateDict leaves = new StateDict(m.newSubManager(), "leaves " + p);
        Random signs = new Random(perturbation);
        init.weights().tensors().forEach((k, v) -> {
            NDArray leaf = v.toType(p.dataType(), true);
            if (perturbation > 0) {
                float[] factors = new float[Math.toIntExact(v.size())];
                for (int i = 0; i < factors.length; i++) {
                    factors[i] = (float) (signs.nextBoolean() ? 1 + U16 : 1 - U16);
                }
                leaf = leaf.mul(leaf.getManager().create(factors, v.getShape()).toType(p.dataType(), false));
            }
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
