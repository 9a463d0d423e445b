package ai.mvar.train.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Scope;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Tensors;
import ai.mvar.nn.Torch;
import ai.mvar.testing.Tolerance;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.GradScaler;
import ai.mvar.train.HandAdamW;
import ai.mvar.train.NonFiniteLossException;
import ai.mvar.train.ParameterGroups;
import ai.mvar.train.TinyModels;
import ai.mvar.train.data.DataPosition;
import ai.mvar.train.data.TokenCache.TokenBatch;
import ai.mvar.train.distributed.GradientReducer;
import ai.mvar.train.distributed.ProcessGroup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

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
            assertEquals(expected, r.mean(), 1e-6);
            assertEquals(expected, r.loss().getFloat(), 1e-6, "a pass over the whole pyramid: the mean");
            assertEquals(0, r.scaleCorrect()[0]); // argmax of token 0 is class 0, target 2
            assertEquals(1, r.scaleCorrect()[1]); // argmax of token 1 is class 0 = target
        }
    }

    /**
     * The reference weighs every token 1/L with L the whole pyramid's tokens, also in an MVAR pass
     * over part of it ({@code loss.mul(loss_weight[:, L_bg:L_ed]).sum(dim=-1).mean()}): a pass over
     * the 4 tokens of scale 1 of pyramid (1, 2) carries 4/5 of its mean.
     */
    @Test
    void anMvarPassWeighsItsTokensOneOverThePyramidLength() {
        try (NDManager m = Torch.newManager()) {
            NDArray logits = m.randomNormal(new Shape(2, 4, 6));
            NDArray targets = Tensors.of(m, new long[] {0, 1, 2, 3, 4, 5, 0, 1}, new Shape(2, 4));
            TokenLoss.Result r = TokenLoss.of(logits, targets, 0, new ScaleSchedule(1, 2), 1, 2);
            float[] z = logits.toFloatArray();
            long[] t = targets.toLongArray();
            double sum = 0;
            for (int i = 0; i < 8; i++) {
                double lse = 0;
                for (int v = 0; v < 6; v++) {
                    lse += Math.exp(z[6 * i + v]);
                }
                sum += Math.log(lse) - z[6 * i + (int) t[i]];
            }
            assertEquals(sum / 8, r.mean(), 1e-5);
            assertEquals(sum / (2 * 5), r.loss().getFloat(), 1e-5);
        }
    }

    /**
     * The trainer against an independent loop that does by hand what PyTorch does: fresh leaves per
     * update (set_to_none), the model's loss and backward, gradients that are None where the backward
     * pass did not reach, global-norm clipping over the gradients that exist, and torch.optim.AdamW's
     * formulas in double precision with a step count per parameter. Over one MVAR cycle (block, then
     * each neighbourhood scale) and the next block pass, pos_start gets no gradient in the
     * neighbourhood passes, and its second update is its own step 2.
     */
    @Test
    void anMvarCycleUpdatesExactlyAsPyTorchWithGradNoneWould() {
        int steps = 4;
        TransformerTrainer.Config config = new TransformerTrainer.Config(Mode.MVAR, 1, 0.1, 0, 9, AdamW.Config.reference());
        double lr = 2e-3;
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenBatch batch = randomBatch(m, 4, 21);
            Map<String, float[]> trained = new LinkedHashMap<>();
            try (Transformer master = Transformer.random(CONFIG, m, 3);
                    TransformerTrainer trainer = new TransformerTrainer(master, vae, config)) {
                for (int i = 0; i < steps; i++) {
                    trainer.step(batch, lr);
                }
                master.weights().tensors().forEach((k, v) -> trained.put(k, v.toFloatArray()));
                assertEquals(2, trainer.optimizer().steps("pos_start"));
                assertEquals(4, trainer.optimizer().steps("head.weight"));
            }
            Map<String, HandAdamW> hand = new LinkedHashMap<>();
            Map<String, Shape> shapes = new LinkedHashMap<>();
            try (Transformer init = Transformer.random(CONFIG, m, 3)) {
                init.weights().tensors().forEach((k, v) -> {
                    hand.put(k, new HandAdamW(v.toFloatArray(), ParameterGroups.reference().decays(k, v)));
                    shapes.put(k, v.getShape());
                });
            }
            ScaleSpans spans = ScaleSpans.of(Mode.MVAR, CONFIG, 1);
            for (int i = 0; i < steps; i++) {
                ScaleSpans.Span span = spans.at(i);
                Map<String, double[]> grads = handGradients(m, vae, batch, span, hand, shapes);
                assertEquals(span.from() == 0, grads.containsKey("pos_start"), "pos_start reached in " + span);
                assertEquals(hand.size() - (span.from() == 0 ? 0 : 1), grads.size(), "everything else is reached");
                double sq = 0;
                for (double[] g : grads.values()) {
                    for (double x : g) {
                        sq += x * x;
                    }
                }
                double clip = Math.min(1, 2.0 / (Math.sqrt(sq) + 1e-6));
                grads.forEach((k, g) -> hand.get(k).step(g, clip, lr, 0.05));
            }
            double worst = 0;
            for (Map.Entry<String, HandAdamW> e : hand.entrySet()) {
                worst = Math.max(worst, Tolerance.relativeError(trained.get(e.getKey()), HandAdamW.toFloats(e.getValue().w)));
            }
            assertTrue(worst <= 1e-5, "trainer differs from the hand computation by " + worst);
        }
    }

    /** One forward and backward pass on fresh leaves holding the hand loop's weights; null-gradient parameters left out. */
    private static Map<String, double[]> handGradients(NDManager m, VqVae vae, TokenBatch batch, ScaleSpans.Span span,
            Map<String, HandAdamW> weights, Map<String, Shape> shapes) {
        Map<String, double[]> out = new LinkedHashMap<>();
        StateDict leaves = new StateDict(m.newSubManager(), "hand leaves");
        weights.forEach((k, h) -> {
            NDArray leaf = Tensors.of(leaves.manager(), HandAdamW.toFloats(h.w), shapes.get(k));
            leaf.setRequiresGradient(true);
            leaves.put(k, leaf);
        });
        Transformer model = Transformer.load(CONFIG, leaves);
        try (model) {
            Scope.run(() -> {
                NDArray teacher = vae.quantizer().teacherForcingInput(batch.indices());
                NDArray targets = NDArrays.concat(new NDList(batch.indices().subList(span.from(), span.to())), 1);
                try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                    NDArray logits = model.logitsUnscoped(batch.labels(), teacher, span.from(), span.to(), Mode.MVAR);
                    gc.backward(TokenLoss.of(logits, targets, 0.1, CONFIG.schedule(), span.from(), span.to()).loss());
                }
                leaves.tensors().forEach((k, leaf) -> {
                    NDArray g = JniUtils.getGradient((PtNDArray) leaf);
                    if (g != null) {
                        out.put(k, HandAdamW.toDoubles(g.toFloatArray()));
                    }
                });
            });
        }
        return out;
    }

    /**
     * 20 steps of two micro-batches each (gradients accumulated in the same leaves) leave no array behind and resident memory flat: a leaked set of
     * gradients per step would add 20 model sizes. Measured in a child JVM with a fixed, pre-touched
     * heap ({@link LeakRun}), so the Java heap's growth does not count.
     */
    @Test
    void twentyStepsOfTwoMicroBatchesLeaveNothingBehind() throws Exception {
        List<String> cmd = List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms96m", "-Xmx96m", "-XX:+AlwaysPreTouch", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"),
                LeakRun.class.getName(), "60", "20");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        String line = out.lines().filter(l -> l.startsWith("LEAK ")).findFirst().orElseThrow(() -> new AssertionError(out));
        long[] v = Arrays.stream(line.substring(5).split(" ")).mapToLong(Long::parseLong).toArray();
        assertEquals(v[0], v[1], "arrays before and after 20 steps");
        long growth = v[3] - v[2];
        assertTrue(growth < 4 * v[4], "resident memory grew by " + growth / 1e6 + " MB over 20 steps (model: "
                + v[4] / 1e6 + " MB)");
    }

    @Test
    void lossFallsAndStepsFreeWhatTheyAllocate() {
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5);
                Transformer t = Transformer.random(CONFIG, m, 3)) {
            TokenBatch batch = randomBatch(m, 8, 2);
            TransformerTrainer.Config config = TransformerTrainer.Config.reference(Mode.VAR, 1)
                    .withOptimizer(AdamW.Config.reference().withWeightDecay(0));
            try (TransformerTrainer trainer = new TransformerTrainer(t, vae, config)) {
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

    /** fp16 with fp32 masters learns like fp32: memorising one batch, the loss falls as far. */
    @Test
    void fp16WithFp32MasterWeightsLearnsLikeFp32() {
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenBatch batch = randomBatch(m, 8, 2);
            double[] fp32 = memorise(m, vae, batch, Precision.FP32);
            double[] fp16 = memorise(m, vae, batch, Precision.FP16);
            assertTrue(fp16[1] < 0.7 * fp16[0], "fp16 loss " + fp16[0] + " -> " + fp16[1]);
            assertEquals(fp32[1], fp16[1], 0.05 * fp32[1], "final loss fp16 " + fp16[1] + " vs fp32 " + fp32[1]);
        }
    }

    /** First and last loss of 30 VAR steps on one batch. */
    private static double[] memorise(NDManager m, VqVae vae, TokenBatch batch, Precision precision) {
        TransformerTrainer.Config config = TransformerTrainer.Config.reference(Mode.VAR, 1).withPrecision(precision)
                .withOptimizer(AdamW.Config.reference().withWeightDecay(0));
        try (Transformer t = Transformer.random(CONFIG, m, 3); TransformerTrainer trainer = new TransformerTrainer(t, vae, config)) {
            double first = trainer.step(batch, 3e-3).loss();
            double last = first;
            for (int i = 0; i < 30; i++) {
                TransformerTrainer.StepResult r = trainer.step(batch, 3e-3);
                assertEquals(AdamW.Outcome.APPLIED, r.optimizer().outcome());
                assertEquals(precision == Precision.FP16 ? 2048 : 1, r.lossScale());
                last = r.loss();
            }
            assertEquals(DataType.FLOAT32, t.weights().get("head.weight").getDataType(), "the masters stay fp32");
            return new double[] {first, last};
        }
    }

    /**
     * A loss scale so large that the fp16 gradients overflow: the step is skipped (weights, moments
     * and step counts untouched), the scale halves, and training goes on once it fits.
     */
    @Test
    void fp16OverflowSkipsTheStepAndHalvesTheScale() {
        GradScaler.Config huge = new GradScaler.Config(Math.pow(2, 40), 2, 0.5, 1000, Double.POSITIVE_INFINITY);
        TransformerTrainer.Config config = TransformerTrainer.Config.reference(Mode.MVAR, 1).withRatioK(1)
                .withPrecision(Precision.FP16).withLossScaling(huge);
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5);
                Transformer t = Transformer.random(CONFIG, m, 3);
                TransformerTrainer trainer = new TransformerTrainer(t, vae, config)) {
            TokenBatch batch = randomBatch(m, 4, 2);
            float[] before = t.weights().get("head.weight").toFloatArray();
            TransformerTrainer.StepResult r = trainer.step(batch, 1e-3);
            assertEquals(AdamW.Outcome.NON_FINITE, r.optimizer().outcome());
            assertEquals(Math.pow(2, 40), r.lossScale());
            assertTrue(Double.isFinite(r.loss()), "the loss itself is fine");
            assertEquals(0, Tolerance.relativeError(t.weights().get("head.weight").toFloatArray(), before), "skipped step");
            assertEquals(0, trainer.optimizer().steps());
            assertEquals(0, trainer.optimizer().steps("head.weight"));
            assertEquals(Math.pow(2, 39), trainer.lossScaler().orElseThrow().scale());
            assertEquals(1, trainer.step(), "a skipped step still counts as a training iteration");
            int skipped = 1;
            while (trainer.step(batch, 1e-3).optimizer().outcome() == AdamW.Outcome.NON_FINITE) {
                skipped++;
                assertTrue(skipped < 40, "the scale never came down");
            }
            assertTrue(Tolerance.relativeError(t.weights().get("head.weight").toFloatArray(), before) > 0, "then it trains");
            assertEquals(1, trainer.optimizer().steps());
            Map<String, NDArray> state = trainer.snapshot(new DataPosition(1, 0, 0)).optimizer();
            assertEquals(Math.pow(2, 40 - skipped), state.get("grad_scaler.scale").getFloat(), 0);
            assertEquals(1, state.get("grad_scaler.growth_tracker").getLong());
        }
    }

    /**
     * The ranks of a job take the same step: an overflow on another rank (its fp16 gradients
     * infinite, these finite) reaches this one through the gradient sum and skips the step here too,
     * halving the scale as there; in fp32 the same sum stops this rank as it stops that one.
     */
    @Test
    void anOverflowOnAnotherRankSkipsTheStepOnThisOne() {
        GradScaler.Config modest = new GradScaler.Config(1024, 2, 0.5, 1000, Double.POSITIVE_INFINITY);
        TransformerTrainer.Config fp16 = TransformerTrainer.Config.reference(Mode.MVAR, 1).withRatioK(1)
                .withPrecision(Precision.FP16).withLossScaling(modest);
        TwinRank twin = new TwinRank();
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5);
                Transformer t = Transformer.random(CONFIG, m, 3);
                TransformerTrainer trainer = new TransformerTrainer(t, vae, fp16, twin, GradientReducer.DEFAULT_BUCKET_BYTES)) {
            TokenBatch shard = randomBatch(m, 4, 2); // this rank's half of a batch of 8
            assertEquals(AdamW.Outcome.APPLIED, trainer.step(shard, 8, 1e-3).optimizer().outcome());
            float[] before = t.weights().get("head.weight").toFloatArray();
            twin.overflowNext = true;
            TransformerTrainer.StepResult r = trainer.step(shard, 8, 1e-3);
            assertEquals(AdamW.Outcome.NON_FINITE, r.optimizer().outcome(), "the peer's overflow skips this rank's step");
            assertEquals(0, Tolerance.relativeError(t.weights().get("head.weight").toFloatArray(), before));
            assertEquals(1, trainer.optimizer().steps());
            assertEquals(512, trainer.lossScaler().orElseThrow().scale());
            assertEquals(AdamW.Outcome.APPLIED, trainer.step(shard, 8, 1e-3).optimizer().outcome());
        }
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5);
                Transformer t = Transformer.random(CONFIG, m, 3);
                TransformerTrainer trainer = new TransformerTrainer(t, vae, TransformerTrainer.Config.reference(Mode.MVAR, 1),
                        twin, GradientReducer.DEFAULT_BUCKET_BYTES)) {
            twin.overflowNext = true;
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class,
                    () -> trainer.step(randomBatch(m, 4, 2), 8, 1e-3));
            assertTrue(e.getMessage().contains("gradient norm"), e.getMessage());
        }
    }

    /**
     * Rank 0 of a job of two whose peer computes exactly what this rank computes (the sums are twice
     * this rank's values), except that when told it contributes an infinite gradient to the next sum.
     */
    private static final class TwinRank implements ProcessGroup {
        boolean overflowNext;

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int size() {
            return 2;
        }

        @Override
        public Device bufferDevice(Device model) {
            return model;
        }

        @Override
        public void allReduceSum(NDArray tensor) {
            tensor.muli(2);
            if (overflowNext) {
                tensor.set(new NDIndex("0"), Float.POSITIVE_INFINITY);
                overflowNext = false;
            }
        }

        @Override
        public void synchronize(String what) {}

        @Override
        public double[] allReduceSum(double[] values) {
            return Arrays.stream(values).map(v -> 2 * v).toArray();
        }

        @Override
        public void close() {}
    }

    @Test
    void nonFiniteLossStopsBeforeAnyUpdate() {
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5);
                Transformer t = Transformer.random(CONFIG, m, 3)) {
            TokenBatch batch = randomBatch(m, 4, 2);
            try (TransformerTrainer trainer = new TransformerTrainer(t, vae, TransformerTrainer.Config.reference(Mode.MVAR, 1))) {
                trainer.step(batch, 1e-3);
                NDArray w = t.weights().get("head.weight");
                w.set(new NDIndex("0, 0"), Float.NaN);
                float[] before = t.weights().get("word_embed.weight").toFloatArray();
                NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> trainer.step(batch, 1e-3));
                assertTrue(e.getMessage().contains("step 2"), e.getMessage());
                assertEquals(0, Tolerance.relativeError(t.weights().get("word_embed.weight").toFloatArray(), before));
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
}
