package ai.mvar.train.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Tensors;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.NonFiniteLossException;
import ai.mvar.train.TinyModels;
import ai.mvar.train.data.TokenCache.TokenBatch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TransformerTrainerTest {
    private static final TransformerConfig CONFIG = TinyModels.transformer();

    @Test
    void mvarCyclesTheScaleMarkovBlockAndEachNeighbourhoodScale() {
        ScaleSpans spans = new ScaleSpans(Mode.MVAR, 4, 2, 3);
        List<ScaleSpans.Span> seen = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            seen.add(spans.at(i));
        }
        ScaleSpans.Span block = new ScaleSpans.Span(0, 2);
        assertEquals(List.of(block, block, block, new ScaleSpans.Span(2, 3), new ScaleSpans.Span(3, 4),
                block, block, block, new ScaleSpans.Span(2, 3), new ScaleSpans.Span(3, 4)), seen);
        assertEquals(new ScaleSpans.Span(0, 4), new ScaleSpans(Mode.VAR, 4, 2, 3).at(7));
    }

    @Test
    void labelSmoothingIsTorchCrossEntropy() {
        try (NDManager m = Torch.newManager()) {
            float[] z = {1f, -2f, 0.5f, 3f, 0f, 0.25f};
            NDArray logits = Tensors.of(m, z, new Shape(1, 2, 3));
            NDArray targets = Tensors.of(m, new long[] {2, 0}, new Shape(1, 2));
            TokenLoss.Result r = TokenLoss.of(logits, targets, 0.1, new ScaleSchedule(1, 1), 0, 2);
            double expected = 0;
            for (int t = 0; t < 2; t++) {
                double lse = Math.log(Math.exp(z[3 * t]) + Math.exp(z[3 * t + 1]) + Math.exp(z[3 * t + 2]));
                int target = t == 0 ? 2 : 0;
                double nll = lse - z[3 * t + target];
                double uniform = lse - (z[3 * t] + z[3 * t + 1] + z[3 * t + 2]) / 3;
                expected += (0.9 * nll + 0.1 * uniform) / 2;
            }
            assertEquals(expected, r.mean().getFloat(), 1e-6);
            assertEquals(0, r.scaleCorrect()[0]); // argmax of token 0 is class 0, target 2
            assertEquals(1, r.scaleCorrect()[1]); // argmax of token 1 is class 0 = target
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void twoReplicasOfEightMakeTheUpdateOfOneReplicaOfSixteen(Mode mode) {
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenBatch batch = randomBatch(m, 16, 11);
            List<float[]> single = trainedWeights(m, vae, batch, mode, 1);
            List<float[]> pair = trainedWeights(m, vae, batch, mode, 2);
            double worst = 0;
            for (int i = 0; i < single.size(); i++) {
                worst = Math.max(worst, relative(pair.get(i), single.get(i)));
            }
            assertTrue(worst <= 1e-5, "2 x 8 differs from 1 x 16 by " + worst);
        }
    }

    /** Weights after three steps (all three MVAR spans) with {@code replicas} logical CPU replicas. */
    private static List<float[]> trainedWeights(NDManager m, VqVae vae, TokenBatch batch, Mode mode, int replicas) {
        Transformer master = Transformer.random(CONFIG, m, 3);
        List<Transformer> all = TransformerTrainer.replicate(master, Collections.nCopies(replicas, Device.cpu()));
        TransformerTrainer.Config config = TransformerTrainer.Config.reference(mode, 9).withRatioK(1)
                .withLabelSmoothing(0.1);
        try (TransformerTrainer trainer = new TransformerTrainer(all, vae, config)) {
            for (int i = 0; i < 3; i++) {
                trainer.step(batch, 1e-3);
            }
            List<float[]> out = new ArrayList<>();
            master.weights().tensors().values().forEach(t -> out.add(t.toFloatArray()));
            // Every replica holds the master's new weights.
            for (Transformer r : all) {
                List<float[]> theirs = new ArrayList<>();
                r.weights().tensors().values().forEach(t -> theirs.add(t.toFloatArray()));
                for (int i = 0; i < out.size(); i++) {
                    assertEquals(0, relative(theirs.get(i), out.get(i)));
                }
            }
            return out;
        } finally {
            master.close();
        }
    }

    @Test
    void lossFallsAndStepsFreeWhatTheyAllocate() {
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5);
                Transformer t = Transformer.random(CONFIG, m, 3)) {
            TokenBatch batch = randomBatch(m, 8, 2);
            TransformerTrainer.Config config = TransformerTrainer.Config.reference(Mode.VAR, 1)
                    .withOptimizer(AdamW.Config.reference().withWeightDecay(0));
            try (TransformerTrainer trainer = new TransformerTrainer(List.of(t), vae, config)) {
                double first = trainer.step(batch, 3e-3).loss();
                int managed = m.getManagedArrays().size();
                double last = first;
                for (int i = 0; i < 30; i++) {
                    TransformerTrainer.StepResult r = trainer.step(batch, 3e-3);
                    last = r.loss();
                    assertEquals(4, r.scaleAccuracy().length);
                }
                assertTrue(last < 0.7 * first, "memorising one batch: loss " + first + " -> " + last);
                assertEquals(managed, m.getManagedArrays().size(), "a step leaves no arrays behind");
            }
        }
    }

    @Test
    void nonFiniteLossStopsBeforeAnyUpdate() {
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5);
                Transformer t = Transformer.random(CONFIG, m, 3)) {
            TokenBatch batch = randomBatch(m, 4, 2);
            try (TransformerTrainer trainer = new TransformerTrainer(List.of(t),
                    vae, TransformerTrainer.Config.reference(Mode.MVAR, 1))) {
                trainer.step(batch, 1e-3);
                NDArray w = t.weights().get("head.weight");
                w.set(new NDIndex("0, 0"), Float.NaN);
                float[] before = t.weights().get("word_embed.weight").toFloatArray();
                NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> trainer.step(batch, 1e-3));
                assertTrue(e.getMessage().contains("step 2"), e.getMessage());
                assertEquals(0, relative(t.weights().get("word_embed.weight").toFloatArray(), before));
                assertEquals(1, trainer.step());
            }
        }
    }

    /** Random per-scale indices and labels for the tiny pyramid. */
    static TokenBatch randomBatch(NDManager m, int b, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        ScaleSchedule s = CONFIG.schedule();
        List<NDArray> indices = new ArrayList<>();
        for (int k = 0; k < s.scales(); k++) {
            long[] idx = new long[b * s.tokens(k)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = r.nextInt(CONFIG.vocabSize());
            }
            indices.add(Tensors.of(m, idx, new Shape(b, s.tokens(k))));
        }
        long[] labels = new long[b];
        for (int i = 0; i < b; i++) {
            labels[i] = r.nextInt(CONFIG.classes());
        }
        return new TokenBatch(indices, Tensors.of(m, labels), null);
    }

    static double relative(float[] a, float[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (double) (a[i] - b[i]);
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }
}
