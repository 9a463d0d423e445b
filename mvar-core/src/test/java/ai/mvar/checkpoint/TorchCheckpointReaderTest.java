package ai.mvar.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.ReferenceFixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchCheckpointReaderTest {
    @TempDir
    Path dir;

    private final long defaultChunk = FileRegions.chunkBytes;

    @AfterEach
    void restoreChunk() {
        FileRegions.chunkBytes = defaultChunk;
    }

    private static Path fixture(String name) {
        return ReferenceFixtures.directory().resolve(name);
    }

    /** The {@code mvar.*} weights of the reference safetensors, prefix removed. */
    private static StateDict reference(NDManager m) throws IOException {
        return SafeTensorsReader.readAll(fixture("tiny-mvar.safetensors"), m.newSubManager()).extract("mvar", m.newSubManager());
    }

    private static void assertSameWeights(StateDict expected, StateDict actual) {
        assertEquals(expected.keys(), actual.keys());
        for (String key : expected.keys()) {
            NDArray e = expected.get(key);
            NDArray a = actual.get(key);
            assertEquals(e.getDataType(), a.getDataType(), key);
            assertEquals(e.getShape(), a.getShape(), key);
            assertEquals(e.toByteBuffer(), a.toByteBuffer(), key + " differs");
        }
    }

    @Test
    void trainerCheckpointLoadsExactlyTheReferenceWeights() throws IOException {
        try (NDManager m = Torch.newManager();
                StateDict ref = reference(m);
                TorchCheckpointReader reader = TorchCheckpointReader.open(fixture("tiny-mvar-trainer.pth"))) {
            assertFalse(reader.bigEndian());
            Map<String, TorchTensor> found = reader.stateDict(null);
            assertEquals(found, reader.stateDict("trainer.mvar_wo_ddp"));
            try (StateDict sd = reader.read(found, m.newSubManager())) {
                assertSameWeights(ref, sd);
            }
            Map<?, ?> root = (Map<?, ?>) reader.root();
            assertEquals(3L, root.get("epoch"));
            assertEquals(17L, root.get("iter"));
            Placeholder args = assertInstanceOf(Placeholder.class, root.get("args"));
            assertEquals(new PyGlobal("__main__", "Args"), args.callee());
            assertEquals(2L, ((Map<?, ?>) args.state()).get("depth"));

            TorchTensor half = (TorchTensor) root.get("half");
            assertEquals(SafeTensorsDType.F16, half.dtype());
            try (NDArray h = reader.load(half, m.newSubManager());
                    NDArray expected = ref.get("head.weight").toType(DataType.FLOAT16, false)) {
                assertEquals(DataType.FLOAT16, h.getDataType());
                assertEquals(expected.toByteBuffer(), h.toByteBuffer());
            }
            TorchTensor view = (TorchTensor) root.get("view");
            assertFalse(view.isContiguous() && view.offset() == 0, "the fixture's view is a window");
            try (NDArray v = reader.load(view, m.newSubManager());
                    NDArray expected = ref.get("pos_1LC").get(new NDIndex(":, 3:7, :"))) {
                assertEquals(new Shape(1, 4, ref.get("pos_1LC").getShape().get(2)), v.getShape());
                assertEquals(expected.toByteBuffer(), v.toByteBuffer());
            }
        }
    }

    @Test
    void legacyCheckpointLoadsExactlyTheReferenceWeights() throws IOException {
        try (NDManager m = Torch.newManager();
                StateDict ref = reference(m);
                StateDict sd = TorchCheckpointReader.readStateDict(fixture("tiny-mvar-legacy.pth"), null, m.newSubManager())) {
            assertSameWeights(ref, sd);
        }
    }

    @Test
    void piecewiseLoadingGivesTheSameTensors() throws IOException {
        FileRegions.chunkBytes = 4096 + 8; // not a multiple of the element size
        try (NDManager m = Torch.newManager();
                StateDict ref = reference(m);
                StateDict sd = TorchCheckpointReader.readStateDict(fixture("tiny-mvar-trainer.pth"), "trainer.mvar_wo_ddp",
                        m.newSubManager())) {
            assertSameWeights(ref, sd);
        }
    }

    @Test
    void bigEndianArchivesAnyPrefixAndEveryStorageType() throws IOException {
        Map<String, TorchZip.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", new TorchZip.Tensor(SafeTensorsDType.F32, new long[] {2, 2}, TorchZip.floats(1.5f, -2f, 3.25f, 4f)));
        tensors.put("h", new TorchZip.Tensor(SafeTensorsDType.F16, new long[] {2}, new byte[] {0, 0x3c, 0, (byte) 0xc0}));
        tensors.put("b", new TorchZip.Tensor(SafeTensorsDType.BF16, new long[] {1}, new byte[] {(byte) 0xc0, 0x3f}));
        tensors.put("i", new TorchZip.Tensor(SafeTensorsDType.I64, new long[] {1}, new byte[] {5, 0, 0, 0, 0, 0, 0, 0}));
        tensors.put("s", new TorchZip.Tensor(SafeTensorsDType.I16, new long[] {1}, new byte[] {(byte) 0xfe, (byte) 0xff}));
        tensors.put("u", new TorchZip.Tensor(SafeTensorsDType.U8, new long[] {2}, new byte[] {(byte) 200, 1}));
        tensors.put("m", new TorchZip.Tensor(SafeTensorsDType.BOOL, new long[] {2}, new byte[] {1, 0}));
        for (boolean big : new boolean[] {false, true}) {
            Path file = dir.resolve("some/odd prefix".replace("/", "_") + big + ".pth");
            TorchZip.writeStateDict(file, "archive name " + big, big, tensors);
            try (NDManager m = Torch.newManager();
                    TorchCheckpointReader reader = TorchCheckpointReader.open(file);
                    StateDict sd = reader.read(reader.stateDict(""), m.newSubManager())) {
                assertEquals(big, reader.bigEndian());
                assertEquals(java.util.List.of(1.5f, -2f, 3.25f, 4f), boxed(sd.get("w").toFloatArray()));
                assertEquals(java.util.List.of(1f, -2f), boxed(sd.get("h").toType(DataType.FLOAT32, false).toFloatArray()));
                assertEquals(1.5f, sd.get("b").getFloat(0)); // bf16 0x3fc0, widened to float32
                assertEquals(5L, sd.get("i").getLong(0));
                assertEquals(-2, sd.get("s").getInt(0)); // int16, widened to int32
                assertEquals(200, sd.get("u").toUint8Array()[0] & 0xff);
                assertTrue(sd.get("m").getBoolean(0));
                assertFalse(sd.get("m").getBoolean(1));
            }
        }
    }

    private static java.util.List<Float> boxed(float[] values) {
        java.util.List<Float> out = new java.util.ArrayList<>();
        for (float v : values) {
            out.add(v);
        }
        return out;
    }

    @Test
    void missingStateDictNamesWhatExists() throws IOException {
        try (TorchCheckpointReader reader = TorchCheckpointReader.open(fixture("tiny-mvar-trainer.pth"))) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> reader.stateDict("model_ema"));
            assertTrue(e.getMessage().contains("trainer"), e.getMessage());
            assertThrows(CheckpointFormatException.class, () -> reader.stateDict("epoch"));
            assertThrows(CheckpointFormatException.class, () -> reader.stateDict(""));
        }
    }
}
