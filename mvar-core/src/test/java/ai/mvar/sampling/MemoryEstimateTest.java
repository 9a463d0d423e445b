package ai.mvar.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.config.ClassNames;
import ai.mvar.config.Preset;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import org.junit.jupiter.api.Test;

/** The sampling memory estimate follows its stated formula for the official d16. */
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
}
