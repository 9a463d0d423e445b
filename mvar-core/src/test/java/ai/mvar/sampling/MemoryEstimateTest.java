package ai.mvar.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.attention.NeighbourhoodTiling;
import ai.mvar.config.ClassNames;
import ai.mvar.config.Preset;
import ai.mvar.config.PresetJson;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The sampling memory estimate follows its stated formula for the official d16 and at 1024 px. */
class MemoryEstimateTest {
    @Test
    void officialD16() {
        Preset d16 = new Preset("d16", VqVaeConfig.official(), TransformerConfig.official(16),
                new Preset.SamplingDefaults(2.7, 1200, 0.99), ClassNames.named("imagenet"));
        MemoryEstimate var = MemoryEstimate.of(d16, Mode.VAR, 32, 4);
        MemoryEstimate mvar = MemoryEstimate.of(d16, Mode.MVAR, 32, 4);
        long params = Transformer.spec(d16.transformer()).parameterCount() + VqVae.spec(d16.tokenizer()).parameterCount();
        assertEquals(4 * params, var.weightBytes());
        assertEquals(2L * 16 * 64 * 680 * 1024 * 4, var.kvCacheBytes()); // B2 = 64 with guidance
        assertEquals(0, mvar.kvCacheBytes());
        assertTrue(mvar.activationBytes() < var.activationBytes());
        assertEquals(4L * 32 * 160 * 256 * 256 * 4, var.decoderBytes());
        assertTrue(mvar.totalBytes() < var.totalBytes());
        assertEquals(var.weightBytes() + var.kvCacheBytes() + Math.max(var.activationBytes(), var.decoderBytes()),
                var.totalBytes());
    }

    /**
     * At 1024 px the finest scale dominates: VAR's scores cover the whole pyramid (64x64 queries x
     * 9451 keys), MVAR's only the tiled neighbourhood attention's largest tile, within its score
     * budget, so MVAR's activations are the layer's and the logits' and a bounded rest.
     */
    @Test
    void at1024pxMvarScoresAreOneTile() throws IOException {
        Preset p = PresetJson.read(Path.of("..", "configs", "d16-1024.json"));
        TransformerConfig t = p.transformer();
        MemoryEstimate var = MemoryEstimate.of(p, Mode.VAR, 1, 4);
        MemoryEstimate mvar = MemoryEstimate.of(p, Mode.MVAR, 1, 4);
        long n = 64 * 64;
        long b2 = 2; // guidance
        long layer = b2 * n * (6L * t.width() + 2L * t.hiddenWidth()) * 4;
        long logits = 2 * b2 * n * t.vocabSize() * 4;
        assertEquals(9451, t.schedule().length());
        assertEquals(layer + 2 * b2 * t.heads() * n * 9451 * 4 + logits, var.activationBytes());
        assertTrue(mvar.activationBytes() > layer + logits, "the tile's scores count");
        assertTrue(mvar.activationBytes() <= layer + logits + 2 * NeighbourhoodTiling.SCORE_BUDGET_BYTES,
                mvar.activationBytes() + " within one tile's scores and their softmax");
        assertEquals(2L * 16 * b2 * 9451 * 1024 * 4, var.kvCacheBytes());
        assertEquals(4L * 160 * 1024 * 1024 * 4, var.decoderBytes());
    }
}
