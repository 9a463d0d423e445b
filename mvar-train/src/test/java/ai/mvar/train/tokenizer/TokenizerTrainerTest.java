package ai.mvar.train.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.mvar.nn.Scope;
import ai.mvar.nn.Torch;
import ai.mvar.testing.TestData;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.NonFiniteLossException;
import ai.mvar.train.TinyModels;
import ai.mvar.train.TrainingCheckpoint;
import ai.mvar.train.data.DataPosition;
import ai.mvar.train.data.FashionMnist;
import ai.mvar.train.data.ImageBatches;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTrainerTest {

    @Test
    void aTinyTokenizerLearnsToReconstructFashionMnist(@TempDir Path dir) throws IOException {
        TestData.assume(FashionMnist.installed(), FashionMnist.DESCRIPTION);
        FashionMnist data = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST, 16, FashionMnist.Fit.RESIZE);
        ImageBatches batches = new ImageBatches(data, 16, DataPosition.start(1), false, true);
        try (NDManager m = Torch.newManager();
                VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 7);
                TokenizerTrainer trainer = new TokenizerTrainer(vae, TokenizerTrainer.Config.defaults(3).withReseedEvery(10))) {
            double first = 0;
            double last = 0;
            int steps = 40;
            int reseeded = 0;
            for (int i = 0; i < steps; i++) {
                try (NDManager step = m.newSubManager(); ImageBatches.ImageBatch b = batches.next(step)) {
                    TokenizerTrainer.StepResult r = trainer.step(b.images(), 2e-3);
                    reseeded += r.reseeded();
                    assertEquals(4, r.usage().length);
                    if (i < 5) {
                        first += r.loss() / 5;
                    } else if (i >= steps - 5) {
                        last += r.loss() / 5;
                    }
                }
            }
            assertTrue(last < 0.6 * first, "loss fell from " + first + " to " + last);
            assertTrue(reseeded > 0, "a fresh 64-code book has dead codes to revive");
            assertEquals(steps, trainer.step());
            int managed = m.getManagedArrays().size();
            try (NDManager step = m.newSubManager(); ImageBatches.ImageBatch b = batches.next(step)) {
                trainer.step(b.images(), 2e-3);
            }
            assertEquals(managed, m.getManagedArrays().size(), "a step leaves no arrays behind");
        }
    }

    @Test
    void aDecoderFineTuningLearnsWhileEveryTokenStays(@TempDir Path dir) throws IOException {
        TokenizerTrainer.Config config = TokenizerTrainer.Config.defaults(3).withReseedEvery(5).withEma(0.9)
                .withDecoderOnly(true);
        TrainingCheckpoint checkpoints = new TrainingCheckpoint(dir, 2);
        try (NDManager m = Torch.newManager();
                VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 7);
                TokenizerTrainer trainer = new TokenizerTrainer(vae, config)) {
            NDArray images = m.randomUniform(-1, 1, new Shape(4, 3, 16, 16));
            List<NDArray> tokensBefore = vae.encode(images);
            Map<String, float[]> frozen = new java.util.TreeMap<>();
            vae.weights().tensors().forEach((name, w) -> {
                if (!vae.decoderWeights().containsKey(name)) {
                    frozen.put(name, w.toFloatArray());
                }
            });
            float[] decoderBefore = vae.weights().get(VqVae.DECODER_OUTPUT_WEIGHT).toFloatArray();
            TokenizerTrainer.StepResult first = trainer.step(images, 2e-3);
            TokenizerTrainer.StepResult r = first;
            for (int i = 1; i < 20; i++) {
                r = trainer.step(images, 2e-3);
                assertEquals(0, r.reseeded(), "a frozen codebook is not re-seeded");
                assertEquals(r.reconstruction(), r.loss(), 0, "the VQ loss is logged, not trained");
            }
            assertTrue(r.reconstruction() < 0.8 * first.reconstruction(), first + " -> " + r);
            frozen.forEach((name, w) -> assertArrayEquals(w, vae.weights().get(name).toFloatArray(), 0, name));
            assertFalse(Arrays.equals(decoderBefore, vae.weights().get(VqVae.DECODER_OUTPUT_WEIGHT).toFloatArray()));
            List<NDArray> tokensAfter = vae.encode(images);
            for (int s = 0; s < tokensBefore.size(); s++) {
                assertArrayEquals(tokensBefore.get(s).toLongArray(), tokensAfter.get(s).toLongArray(), "scale " + s);
            }
            assertEquals(vae.weights().keys(), trainer.modelWeights().keySet(), "the model is the whole tokenizer");
            assertArrayEquals(frozen.get(TokenizerTrainer.CODEBOOK),
                    trainer.modelWeights().get(TokenizerTrainer.CODEBOOK).toFloatArray(), 0);

            checkpoints.save(trainer.snapshot(DataPosition.start(1)));
            try (VqVae fresh = VqVae.random(TinyModels.tokenizer(), m, 99);
                    TokenizerTrainer resumed = new TokenizerTrainer(fresh, config)) {
                resumed.restore(checkpoints.resume(m).orElseThrow());
                assertEquals(trainer.step(images, 1e-3).loss(), resumed.step(images, 1e-3).loss(), 0);
                assertArrayEquals(trainer.modelWeights().get(VqVae.DECODER_OUTPUT_WEIGHT).toFloatArray(),
                        resumed.modelWeights().get(VqVae.DECODER_OUTPUT_WEIGHT).toFloatArray(), 0);
            }
        }
    }

    @Test
    void aNanBatchThrowsBeforeTouchingWeightsAndTheLastCheckpointStillResumes(@TempDir Path dir) throws IOException {
        TrainingCheckpoint checkpoints = new TrainingCheckpoint(dir, 2);
        try (NDManager m = Torch.newManager();
                VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 7);
                TokenizerTrainer trainer = new TokenizerTrainer(vae, TokenizerTrainer.Config.defaults(3))) {
            NDArray images = m.randomUniform(-1, 1, new ai.djl.ndarray.types.Shape(2, 3, 16, 16));
            trainer.step(images, 1e-3);
            checkpoints.save(trainer.snapshot(DataPosition.start(1)));
            float[] before = vae.weights().get(TokenizerTrainer.CODEBOOK).toFloatArray();
            NDArray poisoned = images.duplicate();
            poisoned.set(new ai.djl.ndarray.index.NDIndex("0, 0, 0, 0"), Float.NaN);
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> trainer.step(poisoned, 1e-3));
            assertTrue(e.getMessage().contains("step 2"), e.getMessage());
            assertArrayEquals(before, vae.weights().get(TokenizerTrainer.CODEBOOK).toFloatArray());
            assertEquals(List.of(dir.resolve("step-000000000001.safetensors")), checkpoints.checkpoints());

            try (VqVae fresh = VqVae.random(TinyModels.tokenizer(), m, 99);
                    TokenizerTrainer resumed = new TokenizerTrainer(fresh, TokenizerTrainer.Config.defaults(3))) {
                resumed.restore(checkpoints.resume(m).orElseThrow());
                assertEquals(1, resumed.step());
                assertArrayEquals(before, fresh.weights().get(TokenizerTrainer.CODEBOOK).toFloatArray());
                trainer.step(images, 1e-3);
                resumed.step(images, 1e-3);
                assertArrayEquals(vae.weights().get(TokenizerTrainer.CODEBOOK).toFloatArray(),
                        fresh.weights().get(TokenizerTrainer.CODEBOOK).toFloatArray(), 1e-6f,
                        "a resumed run takes the same step as the uninterrupted one");
            }
        }
    }

    @Test
    void theDiscriminatorJoinsAtItsStartStepAndTheAverageBecomesTheModel() {
        TokenizerTrainer.Config config = TokenizerTrainer.Config.defaults(3)
                .withAdversarial(new TokenizerTrainer.Adversarial(0.8, 3, 8)).withEma(0.9);
        try (NDManager m = Torch.newManager();
                VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 7);
                TokenizerTrainer trainer = new TokenizerTrainer(vae, config)) {
            NDArray images = m.randomUniform(-1, 1, new Shape(4, 3, 16, 16));
            float[] discriminatorBefore = trainer.discriminator().weights().get("conv1.weight").toFloatArray();
            for (int i = 0; i < 3; i++) {
                TokenizerTrainer.StepResult r = trainer.step(images, 1e-3);
                assertEquals(0, r.generator());
                assertEquals(0, r.discriminator());
                assertEquals(0, r.adaptiveWeight());
                assertEquals(r.reconstruction() + r.vq(), r.loss(), 1e-6);
            }
            assertArrayEquals(discriminatorBefore, trainer.discriminator().weights().get("conv1.weight").toFloatArray(),
                    "the discriminator waits for its start step");
            int managed = m.getManagedArrays().size();
            TokenizerTrainer.StepResult r = trainer.step(images, 1e-3);
            assertEquals(managed, m.getManagedArrays().size(), "an adversarial step leaves no arrays behind");
            assertTrue(r.adaptiveWeight() > 0 && Double.isFinite(r.adaptiveWeight()), r.toString());
            assertTrue(r.discriminator() > 0, r.toString());
            assertEquals(r.reconstruction() + r.vq() + r.adaptiveWeight() * r.generator(), r.loss(), 1e-5);
            assertFalse(Arrays.equals(discriminatorBefore, trainer.discriminator().weights().get("conv1.weight").toFloatArray()));
            float[] average = trainer.modelWeights().get(TokenizerTrainer.CODEBOOK).toFloatArray();
            float[] live = vae.weights().get(TokenizerTrainer.CODEBOOK).toFloatArray();
            assertFalse(Arrays.equals(average, live), "the model is the moving average, not the live weights");
            assertEquals(vae.weights().keys(), trainer.modelWeights().keySet());
        }
    }

    @Test
    void theAdaptiveWeightIsTheRatioOfFullGradientNormsOnTheDecodersLastLayer() {
        try (NDManager m = Torch.newManager();
                VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 7);
                TokenizerTrainer trainer = new TokenizerTrainer(vae, TokenizerTrainer.Config.defaults(3)
                        .withAdversarial(new TokenizerTrainer.Adversarial(1, 0, 8)))) {
            NDArray images = m.randomUniform(-1, 1, new Shape(4, 3, 16, 16));
            trainer.step(images, 1e-3);
            StraightThroughQuantizer ste = new StraightThroughQuantizer(vae.quantizer(), vae.config().schedule(),
                    vae.config().latentChannels(), 0.25f);
            double rec = lastLayerGradientNorm(vae, ste, images, x -> x.sub(images).square().mean(), trainer);
            double g = lastLayerGradientNorm(vae, ste, images, x -> trainer.discriminator().forward(x).mean().neg(), trainer);
            assertEquals(rec / (g + 1e-4), trainer.adaptiveWeight(images), 1e-4 * rec / g);
        }
    }

    /** The norm of d loss / d conv_out.weight, back-propagated through the whole tokenizer. */
    private static double lastLayerGradientNorm(VqVae vae, StraightThroughQuantizer ste, NDArray images,
            UnaryOperator<NDArray> loss, TokenizerTrainer trainer) {
        double[] out = new double[1];
        Scope.run(() -> {
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                gc.backward(loss.apply(vae.decodeUnclamped(ste.forward(vae.features(images)).fHat())));
                out[0] = vae.weights().get(VqVae.DECODER_OUTPUT_WEIGHT).getGradient().norm().getFloat();
            }
            trainer.optimizer().zeroGradients();
        });
        return out[0];
    }

    @Test
    void aResumedAdversarialRunWithAnAverageTakesTheSameStep(@TempDir Path dir) throws IOException {
        TokenizerTrainer.Config config = TokenizerTrainer.Config.defaults(3)
                .withAdversarial(new TokenizerTrainer.Adversarial(0.8, 1, 8)).withEma(0.9);
        TrainingCheckpoint checkpoints = new TrainingCheckpoint(dir, 2);
        try (NDManager m = Torch.newManager();
                VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 7);
                TokenizerTrainer trainer = new TokenizerTrainer(vae, config)) {
            NDArray images = m.randomUniform(-1, 1, new Shape(4, 3, 16, 16));
            trainer.step(images, 1e-3);
            trainer.step(images, 1e-3);
            checkpoints.save(trainer.snapshot(DataPosition.start(1)));
            try (VqVae fresh = VqVae.random(TinyModels.tokenizer(), m, 99);
                    TokenizerTrainer resumed = new TokenizerTrainer(fresh, config)) {
                resumed.restore(checkpoints.resume(m).orElseThrow());
                TokenizerTrainer.StepResult a = trainer.step(images, 1e-3);
                TokenizerTrainer.StepResult b = resumed.step(images, 1e-3);
                assertEquals(a.loss(), b.loss(), 0);
                assertEquals(a.discriminator(), b.discriminator(), 0);
                assertEquals(a.adaptiveWeight(), b.adaptiveWeight(), 0);
                for (String name : List.of(TokenizerTrainer.CODEBOOK, VqVae.DECODER_OUTPUT_WEIGHT)) {
                    assertArrayEquals(trainer.modelWeights().get(name).toFloatArray(),
                            resumed.modelWeights().get(name).toFloatArray(), 0, name);
                }
                assertArrayEquals(trainer.discriminator().weights().get("logits.weight").toFloatArray(),
                        resumed.discriminator().weights().get("logits.weight").toFloatArray(), 0);
            }
            try (VqVae plain = VqVae.random(TinyModels.tokenizer(), m, 99);
                    TokenizerTrainer withoutGan = new TokenizerTrainer(plain, TokenizerTrainer.Config.defaults(3))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> withoutGan.restore(checkpoints.resume(m).orElseThrow()));
                assertTrue(e.getMessage().contains("discriminator.conv1.weight"), e.getMessage());
            }
        }
    }
}
