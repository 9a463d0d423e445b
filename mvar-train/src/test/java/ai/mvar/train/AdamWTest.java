package ai.mvar.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.mvar.nn.Torch;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class AdamWTest {
    private static final float[] W0 = {0.5f, -1.0f, 2.0f, 0.25f};
    private static final float[] B0 = {0.1f, -0.2f};

    /** loss = sum(w * c) + sum(b^2), so grad w = c and grad b = 2b. */
    private static void backward(Map<String, NDArray> p, float[] c) {
        try (GradientCollector gc = Torch.engine().newGradientCollector()) {
            NDArray w = p.get("layer.weight");
            NDArray loss = w.mul(w.getManager().create(c, w.getShape())).sum().add(p.get("layer.bias").square().sum());
            gc.backward(loss);
        }
    }

    private static Map<String, NDArray> params(NDManager m) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        p.put("layer.weight", m.create(W0, new Shape(2, 2)));
        p.put("layer.bias", m.create(B0));
        return p;
    }

    @Test
    void matchesTorchAdamWByHandForTwoSteps() {
        try (NDManager m = Torch.newManager()) {
            Map<String, NDArray> p = params(m);
            AdamW.Config cfg = AdamW.Config.reference().withMaxGradNorm(0);
            try (AdamW opt = new AdamW(p, cfg)) {
                assertTrue(opt.decays("layer.weight"));
                assertFalse(opt.decays("layer.bias"));
                float[] c = {1, -2, 3, 0.5f};
                double lr = 0.1;
                double[] w = {0.5, -1.0, 2.0, 0.25};
                double[] mw = new double[4];
                double[] vw = new double[4];
                for (int t = 1; t <= 2; t++) {
                    backward(p, c);
                    opt.step(lr);
                    for (int i = 0; i < 4; i++) {
                        w[i] *= 1 - lr * 0.05;
                        mw[i] = 0.9 * mw[i] + 0.1 * c[i];
                        vw[i] = 0.95 * vw[i] + 0.05 * c[i] * c[i];
                        double denom = Math.sqrt(vw[i]) / Math.sqrt(1 - Math.pow(0.95, t)) + 1e-8;
                        w[i] -= lr / (1 - Math.pow(0.9, t)) * mw[i] / denom;
                    }
                }
                float[] got = p.get("layer.weight").toFloatArray();
                for (int i = 0; i < 4; i++) {
                    assertEquals(w[i], got[i], 1e-5, "weight " + i);
                }
                // Bias: no decay, and the first Adam step moves each entry by lr against its sign.
                assertEquals(2, opt.steps());
                float[] b = p.get("layer.bias").toFloatArray();
                assertTrue(b[0] < 0.1f - 0.15f && b[1] > -0.2f + 0.15f);
            }
        }
    }

    /**
     * One MVAR cycle with ratio_k 1 and the next block pass: the block pass reaches pos_start and the
     * matrices, each neighbourhood pass only the matrices. pos_start must sit out the neighbourhood
     * passes entirely (no decay, no moments, no step count) and its second update must use its own
     * step count 2 for the bias correction, as torch.optim.AdamW with grad None does; clipping sees
     * only the gradients that exist.
     */
    @Test
    void aParameterWithoutAGradientSitsOutTheUpdateAsTorchSkipsGradNone() {
        String pos = "pos_start";
        String mat = "blocks.0.attn.mat_qkv.weight";
        double[][] posGrads = {{0.5, -1.5}, null, null, {2.0, 0.25}};
        double[][] matGrads = {{1, -2, 3, 0.5}, {-0.5, 4, 1, 1}, {2, 2, -1, 3}, {0.1, -0.3, 0.2, 0.6}};
        double lr = 0.1;
        double wd = 0.05;
        try (NDManager m = Torch.newManager()) {
            Map<String, NDArray> p = new LinkedHashMap<>();
            p.put(pos, m.create(new float[] {0.3f, -0.7f}, new Shape(1, 2)));
            p.put(mat, m.create(W0, new Shape(2, 2)));
            try (AdamW opt = new AdamW(p, AdamW.Config.reference())) {
                assertFalse(opt.decays(pos));
                assertTrue(opt.decays(mat));
                HandAdamW handPos = new HandAdamW(new double[] {0.3, -0.7}, false);
                HandAdamW handMat = new HandAdamW(new double[] {0.5, -1.0, 2.0, 0.25}, true);
                for (int t = 0; t < 4; t++) {
                    double[] gp = posGrads[t];
                    double[] gm = matGrads[t];
                    double norm = Math.sqrt(sumSq(gm) + (gp == null ? 0 : sumSq(gp)));
                    double clip = Math.min(1, 2.0 / (norm + 1e-6));
                    AdamW.StepReport r = opt.update(lr, name -> name.equals(mat) ? m.create(HandAdamW.toFloats(gm), new Shape(2, 2))
                            : gp == null ? null : m.create(HandAdamW.toFloats(gp), new Shape(1, 2)), 1.0);
                    assertEquals(AdamW.Outcome.APPLIED, r.outcome());
                    assertEquals(norm, r.gradNorm(), 1e-5);
                    if (gp != null) {
                        handPos.step(gp, clip, lr, wd);
                    }
                    handMat.step(gm, clip, lr, wd);
                    assertArrayEquals(HandAdamW.toFloats(handPos.w), p.get(pos).toFloatArray(), 1e-6f, "pos_start after update " + (t + 1));
                    assertArrayEquals(HandAdamW.toFloats(handMat.w), p.get(mat).toFloatArray(), 1e-6f, "matrix after update " + (t + 1));
                    assertArrayEquals(HandAdamW.toFloats(handPos.m), opt.state().get("exp_avg." + pos).toFloatArray(), 1e-7f);
                    assertArrayEquals(HandAdamW.toFloats(handPos.v), opt.state().get("exp_avg_sq." + pos).toFloatArray(), 1e-7f);
                }
                assertEquals(4, opt.steps());
                assertEquals(2, opt.steps(pos));
                assertEquals(4, opt.steps(mat));
                assertEquals(2, opt.state().get("step." + pos).getLong());
            }
        }
    }

    private static double sumSq(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x * x;
        }
        return s;
    }

    @Test
    void stepCountsPerParameterRoundTripAndOldStateFallsBackToTheUpdateCount() {
        try (NDManager m = Torch.newManager()) {
            Map<String, NDArray> a = params(m);
            try (AdamW opt = new AdamW(a, AdamW.Config.reference())) {
                opt.update(0.01, name -> name.equals("layer.bias") ? m.create(new float[] {1, 1}) : null, 1);
                opt.update(0.01, name -> name.equals("layer.bias") ? m.create(new float[] {1, 1}) : null, 1);
                Map<String, NDArray> saved = new LinkedHashMap<>(opt.state());
                try (AdamW back = new AdamW(params(m), AdamW.Config.reference())) {
                    back.restore(saved, opt.steps());
                    assertEquals(0, back.steps("layer.weight"));
                    assertEquals(2, back.steps("layer.bias"));
                    saved.keySet().removeIf(k -> k.startsWith("step."));
                    back.restore(saved, 7);
                    assertEquals(7, back.steps("layer.weight"), "a checkpoint without step counts: the update count");
                }
            }
        }
    }

    @Test
    void accumulationAveragesMicroBatchesLikeOneBigBatch() {
        float[] c1 = {1, 2, 3, 4};
        float[] c2 = {-3, 0, 1, 2};
        float[] mean = {-1, 1, 2, 3};
        float[] accumulated = run(2, p -> {
            backward(p, c1);
            return null;
        }, p -> {
            backward(p, c2);
            return null;
        });
        float[] big = run(1, p -> {
            backward(p, mean);
            return null;
        });
        assertArrayEquals(big, accumulated, 1e-6f);
    }

    @SafeVarargs
    private static float[] run(int accumulation, Function<Map<String, NDArray>, Void>... microBatches) {
        try (NDManager m = Torch.newManager()) {
            Map<String, NDArray> p = params(m);
            try (AdamW opt = new AdamW(p, AdamW.Config.reference().withAccumulation(accumulation))) {
                AdamW.StepReport last = null;
                for (Function<Map<String, NDArray>, Void> mb : microBatches) {
                    mb.apply(p);
                    last = opt.step(0.01);
                }
                assertTrue(last.applied());
                return p.get("layer.weight").toFloatArray();
            }
        }
    }

    @Test
    void clipsToTheGlobalNorm() {
        try (NDManager m = Torch.newManager()) {
            Map<String, NDArray> p = params(m);
            try (AdamW opt = new AdamW(p, AdamW.Config.reference())) {
                backward(p, new float[] {30, 40, 0, 0});
                AdamW.StepReport r = opt.step(0.01);
                double norm = Math.sqrt(30 * 30 + 40 * 40 + 0.2 * 0.2 + 0.4 * 0.4);
                assertEquals(norm, r.gradNorm(), 1e-3);
                assertEquals(2.0 / (norm + 1e-6), r.clipScale(), 1e-6);
            }
        }
    }

    @Test
    void aNonFiniteGradientUpdatesNothing() {
        try (NDManager m = Torch.newManager()) {
            Map<String, NDArray> p = params(m);
            try (AdamW opt = new AdamW(p, AdamW.Config.reference())) {
                backward(p, new float[] {Float.NaN, 1, 1, 1});
                NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> opt.step(0.01));
                assertTrue(e.getMessage().contains("gradient norm") && e.getMessage().contains("step 1"), e.getMessage());
                assertArrayEquals(W0, p.get("layer.weight").toFloatArray());
                assertEquals(0, opt.steps());
                backward(p, new float[] {1, 1, 1, 1});
                assertTrue(opt.step(0.01).applied(), "gradients were cleared, training can go on");
            }
        }
    }

    @Test
    void stateRoundTripsForResume() {
        float[] c = {1, -2, 3, 0.5f};
        try (NDManager m = Torch.newManager()) {
            Map<String, NDArray> a = params(m);
            Map<String, NDArray> b = params(m);
            try (AdamW optA = new AdamW(a, AdamW.Config.reference()); AdamW optB = new AdamW(b, AdamW.Config.reference())) {
                backward(a, c);
                optA.step(0.05);
                b.get("layer.weight").set(new ai.djl.ndarray.index.NDIndex("..."), a.get("layer.weight"));
                b.get("layer.bias").set(new ai.djl.ndarray.index.NDIndex("..."), a.get("layer.bias"));
                optB.restore(optA.state(), optA.steps());
                backward(a, c);
                optA.step(0.05);
                backward(b, c);
                optB.step(0.05);
                assertArrayEquals(a.get("layer.weight").toFloatArray(), b.get("layer.weight").toFloatArray());
                assertEquals(6, optA.state().size());
            }
        }
    }

    @Test
    void filtersDecayAsVarDoes() {
        ParameterGroups g = ParameterGroups.reference();
        try (NDManager m = Torch.newManager()) {
            NDArray matrix = m.zeros(new Shape(4, 4));
            assertTrue(g.decays("blocks.0.attn.mat_qkv.weight", matrix));
            assertTrue(g.decays("class_emb.weight", matrix), "VAR decays the class embedding");
            assertFalse(g.decays("pos_1LC", m.zeros(new Shape(1, 4, 4))));
            assertFalse(g.decays("lvl_embed.weight", matrix));
            assertFalse(g.decays("blocks.0.attn.scale_mul_1H11", m.zeros(new Shape(1, 2, 1, 1))));
            assertFalse(g.decays("blocks.0.ffn.fc1.bias", m.zeros(new Shape(4))));
            assertFalse(g.decays("quant_resi.0.weight", m.zeros(new Shape(4))), "1-D");
        }
    }
}
