package ai.mvar.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.ParameterSpec;
import ai.mvar.nn.Params;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.nn.WeightMismatchException;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointImporterTest {
    @TempDir
    Path dir;

    /** Buffers MVAR derives from its configuration instead of loading them. */
    private static final Predicate<String> DERIVABLE = k -> k.equals("lvl_1L") || k.equals("attn_bias_for_masking")
            || k.endsWith("attn.zero_k_bias");

    /**
     * The spec of the MVAR the checkpoints were saved from, recorded from its fixture set's key set
     * (the model's own spec lives elsewhere).
     */
    private static ParameterSpec tinyMvarSpec(Map<String, Shape> overrides, List<String> omit) throws IOException {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        try (SafeTensorsReader r = SafeTensorsReader.open(ReferenceFixtures.checkpointSet().mvarFile())) {
            r.tensors().forEach((k, info) -> {
                if (k.startsWith("mvar.")) {
                    shapes.put(k.substring(5), info.shape());
                }
            });
        }
        shapes.putAll(overrides);
        omit.forEach(shapes::remove);
        return ParameterSpec.record(p -> shapes.forEach((k, shape) -> {
            if (DERIVABLE.test(k)) {
                p.buffer(k, shape.getShape());
            } else {
                p.get(k, Params.Init.ZEROS, shape.getShape());
            }
        }));
    }

    @Test
    void importsTheTrainerCheckpointWithoutBuffersAndWithTheConfig() throws IOException {
        Path out = dir.resolve("tiny-mvar.safetensors");
        Path dir0 = ReferenceFixtures.directory();
        ParameterSpec spec = tinyMvarSpec(Map.of(), List.of());
        CheckpointImporter.Report report = CheckpointImporter.importCheckpoint(dir0.resolve("tiny-mvar-trainer.pth"),
                null, spec, Map.of("config", "{\"depth\":2}"), out);
        assertEquals(List.copyOf(spec.shapes().keySet()).stream().sorted().toList(),
                report.written().stream().sorted().toList());
        assertTrue(report.droppedBuffers().containsAll(List.of("lvl_1L", "attn_bias_for_masking", "blocks.0.attn.zero_k_bias")));
        try (NDManager m = Torch.newManager();
                SafeTensorsReader r = SafeTensorsReader.open(out);
                StateDict imported = r.read(m.newSubManager());
                StateDict ref = SafeTensorsReader.readAll(ReferenceFixtures.checkpointSet().mvarFile(), m.newSubManager())
                        .extract("mvar", m.newSubManager())) {
            assertEquals("{\"depth\":2}", r.metadata().get("config"));
            assertEquals("pt", r.metadata().get("format"));
            assertFalse(imported.contains("attn_bias_for_masking"));
            for (String key : imported.keys()) {
                assertEquals(ref.get(key).toByteBuffer(), imported.get(key).toByteBuffer(), key);
            }
        }
        // The legacy file holds the same state dict at the top level.
        Path legacyOut = dir.resolve("legacy.safetensors");
        CheckpointImporter.importCheckpoint(dir0.resolve("tiny-mvar-legacy.pth"), "", spec, Map.of(), legacyOut);
        try (SafeTensorsReader a = SafeTensorsReader.open(out); SafeTensorsReader b = SafeTensorsReader.open(legacyOut)) {
            assertEquals(a.tensors(), b.tensors());
        }
    }

    @Test
    void listsEveryMissingUnexpectedAndMisshapedKeyAndWritesNothing() throws IOException {
        Path out = dir.resolve("never.safetensors");
        ParameterSpec spec = tinyMvarSpec(Map.of("head.weight", new Shape(4096, 128), "extra.weight", new Shape(3)),
                List.of("class_emb.weight", "head.bias"));
        WeightMismatchException e = assertThrows(WeightMismatchException.class, () -> CheckpointImporter.importCheckpoint(
                ReferenceFixtures.directory().resolve("tiny-mvar-trainer.pth"), "trainer.mvar_wo_ddp", spec, Map.of(), out));
        assertEquals(List.of("extra.weight (3)"), e.missing());
        assertEquals(List.of("class_emb.weight", "head.bias"), e.unexpected().stream().sorted().toList());
        assertEquals(1, e.misshaped().size());
        assertTrue(e.misshaped().get(0).startsWith("head.weight"), e.misshaped().toString());
        assertFalse(Files.exists(out));
    }

    @Test
    void importsAVqVaeCheckpointThatTheTokenizerThenLoads() throws IOException {
        FixtureSet set = ReferenceFixtures.sets().get(0);
        VqVaeConfig config = set.vaeConfig();
        Path pth = dir.resolve("vae_tiny.pth");
        Map<String, TorchZip.Tensor> tensors = new LinkedHashMap<>();
        try (NDManager m = Torch.newManager(); StateDict vae = ReferenceFixtures.vaeWeights(m)) {
            for (String key : vae.keys()) {
                var a = vae.get(key);
                byte[] bytes = new byte[(int) (a.getShape().size() * a.getDataType().getNumOfBytes())];
                a.toByteBuffer().get(bytes);
                tensors.put(key, new TorchZip.Tensor(SafeTensorsDType.of(a.getDataType()), a.getShape().getShape(), bytes));
            }
        }
        TorchZip.writeStateDict(pth, "vae_tiny", false, tensors);
        Path out = dir.resolve("vae.safetensors");
        ParameterSpec spec = VqVae.spec(config);
        CheckpointImporter.Report report = CheckpointImporter.importCheckpoint(pth, null, spec, Map.of("vocab", "64"), out);
        assertEquals(List.copyOf(spec.buffers().keySet()), report.droppedBuffers());
        try (NDManager m = Torch.newManager();
                VqVae vae = VqVae.load(config, SafeTensorsReader.readAll(out, m.newSubManager()))) {
            assertEquals(config, vae.config());
        }
        VqVaeConfig wrong = VqVaeConfig.of(config.vocabSize() * 2, config.latentChannels(), config.channels(),
                set.schedule());
        WeightMismatchException e = assertThrows(WeightMismatchException.class,
                () -> CheckpointImporter.importCheckpoint(pth, null, VqVae.spec(wrong), Map.of(), dir.resolve("x.safetensors")));
        assertTrue(e.misshaped().stream().anyMatch(s -> s.startsWith("quantize.embedding.weight")), e.getMessage());
    }
}
