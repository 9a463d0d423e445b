package ai.mvar.train.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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
import java.util.List;
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
}
