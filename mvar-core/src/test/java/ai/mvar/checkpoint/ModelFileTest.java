package ai.mvar.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.mvar.config.ClassNames;
import ai.mvar.config.Preset;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Torch;
import ai.mvar.nn.WeightMismatchException;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model files: metadata round trip, plain files with a preset, and every refusal naming file and key. */
class ModelFileTest {
    static Preset preset(int width) {
        ScaleSchedule s = new ScaleSchedule(1, 2, 4);
        VqVaeConfig v = new VqVaeConfig(32, 8, 32, new int[] {1, 2}, 1, 2, 0.5f, s);
        TransformerConfig t = new TransformerConfig(1, width, 2, 32, 3, 8, s, 2, 3, true, 4.0);
        return new Preset("t" + width, v, t, new Preset.SamplingDefaults(1.5, 0, 0.9), ClassNames.named("numbered:3"));
    }

    @Test
    void roundTripAndRefusals(@TempDir Path dir) throws Exception {
        Preset p = preset(32);
        Path tr = dir.resolve("sub/t.safetensors");
        Path tok = dir.resolve("v.safetensors");
        Path plain = dir.resolve("plain.safetensors");
        try (NDManager m = Torch.newManager();
                Transformer t = Transformer.random(p.transformer(), m, 1);
                VqVae v = VqVae.random(p.tokenizer(), m, 2)) {
            ModelFile.write(tr, ModelFile.Kind.TRANSFORMER, p, Mode.VAR, t.weights().tensors(), Map.of("step", "7"));
            ModelFile.write(tok, ModelFile.Kind.TOKENIZER, p, null, v.weights().tensors(), Map.of());
            SafeTensorsWriter.write(plain, t.weights().tensors(), Map.of());
            assertThrows(IllegalArgumentException.class, () -> ModelFile.metadata(ModelFile.Kind.TRANSFORMER, p, null, Map.of()));
            assertThrows(IllegalArgumentException.class,
                    () -> ModelFile.metadata(ModelFile.Kind.TOKENIZER, p, null, Map.of("mvar.x", "y")));
        }
        ModelFile.Info info = ModelFile.info(tr);
        assertEquals(ModelFile.Kind.TRANSFORMER, info.kind());
        assertEquals(p, info.preset());
        assertEquals(Mode.VAR, info.mode());
        assertEquals(Map.of("step", "7"), info.extra());
        assertEquals(Transformer.spec(p.transformer()).parameterCount(), info.storedValues());
        try (NDManager m = Torch.newManager()) {
            try (ModelFile.Loaded l = ModelFile.read(tr, m); Transformer t = l.transformer(Precision.FP32)) {
                assertEquals(p.transformer(), t.config());
            }
            try (ModelFile.Loaded l = ModelFile.read(tok, m); VqVae v = l.tokenizer()) {
                assertEquals(p.tokenizer(), v.config());
                assertNull(l.mode());
            }
            // A plain file loads when kind and preset are named, and only then.
            try (ModelFile.Loaded l = ModelFile.read(plain, m, ModelFile.Kind.TRANSFORMER, p)) {
                assertEquals(p, l.preset());
                assertNull(l.mode());
            }
            IllegalArgumentException noKind = assertThrows(IllegalArgumentException.class, () -> ModelFile.read(plain, m));
            assertTrue(noKind.getMessage().contains(plain + ": no 'mvar.kind'"), noKind.getMessage());
            IllegalArgumentException noPreset = assertThrows(IllegalArgumentException.class,
                    () -> ModelFile.read(plain, m, ModelFile.Kind.TRANSFORMER, null));
            assertTrue(noPreset.getMessage().contains("'mvar.preset'"), noPreset.getMessage());
            IllegalArgumentException wrongKind = assertThrows(IllegalArgumentException.class,
                    () -> ModelFile.read(tok, m, ModelFile.Kind.TRANSFORMER, null));
            assertTrue(wrongKind.getMessage().contains("holds a tokenizer"), wrongKind.getMessage());
            IllegalArgumentException otherSizes = assertThrows(IllegalArgumentException.class,
                    () -> ModelFile.read(tr, m, ModelFile.Kind.TRANSFORMER, preset(64)));
            assertTrue(otherSizes.getMessage().contains("does not fit preset 't64'"), otherSizes.getMessage());
            WeightMismatchException misfit = assertThrows(WeightMismatchException.class,
                    () -> ModelFile.read(plain, m, ModelFile.Kind.TRANSFORMER, preset(64)));
            assertTrue(misfit.getMessage().startsWith("weights in " + plain), misfit.getMessage());
            assertTrue(!misfit.misshaped().isEmpty());
            assertThrows(NoSuchFileException.class, () -> ModelFile.read(dir.resolve("none.safetensors"), m));
        }
    }
}
