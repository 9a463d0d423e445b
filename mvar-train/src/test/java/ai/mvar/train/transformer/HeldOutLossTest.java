package ai.mvar.train.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.TinyModels;
import ai.mvar.train.data.TokenCache;
import ai.mvar.train.data.TokenCacheWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeldOutLossTest {
    private static final TransformerConfig CONFIG = TinyModels.transformer();

    /**
     * Scored in batches of 4, 4 and 2, the held-out loss of every scale is the loss the trainer
     * reports for the same 10 images in one batch (no class dropout, learning rate 0 so the weights
     * stay), over one period of spans: the same cross-entropy, not a second definition of it.
     */
    @Test
    void isTheTrainingLossOfTheSameImagesWithoutUpdates(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("test.tokens");
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenCacheWriter.write(file, TinyModels.randomImages(10, 16, 8), vae, m, 4, false, n -> {});
            try (TokenCache cache = TokenCache.open(file)) {
                for (Mode mode : Mode.values()) {
                    try (Transformer model = Transformer.random(CONFIG, m, 3);
                            TransformerTrainer trainer = new TransformerTrainer(model, vae,
                                    new TransformerTrainer.Config(mode, 1, 0, 0, 0, AdamW.Config.reference()));
                            NDManager bm = m.newSubManager();
                            TokenCache.TokenBatch all = cache.read(IntStream.range(0, 10).toArray(), new boolean[10], bm)) {
                        HeldOutLoss.Result held = HeldOutLoss.of(model, vae, cache, mode, 4, m);
                        assertEquals(10, held.images());
                        for (int i = 0; i < trainer.spans().period(); i++) {
                            TransformerTrainer.StepResult r = trainer.step(all, 0.0);
                            for (int s = r.span().from(); s < r.span().to(); s++) {
                                assertEquals(r.scaleLoss()[s], held.scaleLoss()[s], 1e-5, mode + " scale " + s);
                                assertEquals(r.scaleAccuracy()[s], held.scaleAccuracy()[s], 1e-9, mode + " scale " + s);
                            }
                        }
                        // untrained over 64 codes: near log 64 per token
                        assertTrue(Math.abs(held.mean() - Math.log(64)) < 1, mode + " mean " + held.mean());
                    }
                }
            }
        }
    }

    @Test
    void namesTheCacheWhoseTokensTheModelDoesNotPredict(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("other.tokens");
        TransformerConfig smallerVocabulary = new TransformerConfig(2, 64, 2, 32, 3, 8, CONFIG.schedule(), 2, 3, true, 4.0);
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenCacheWriter.write(file, TinyModels.randomImages(2, 16, 8), vae, m, 2, false, n -> {});
            try (TokenCache cache = TokenCache.open(file); Transformer model = Transformer.random(smallerVocabulary, m, 3)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> HeldOutLoss.of(model, vae, cache, Mode.MVAR, 2, m));
                assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("64 codes"), e.getMessage());
            }
        }
    }
}
