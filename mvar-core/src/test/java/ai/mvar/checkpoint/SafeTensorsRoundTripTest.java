package ai.mvar.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafeTensorsRoundTripTest {
    @TempDir
    Path dir;

    private final long defaultChunk = FileRegions.chunkBytes;

    @AfterEach
    void restoreChunk() {
        FileRegions.chunkBytes = defaultChunk;
    }

    private static NDArray sample(NDManager m, SafeTensorsDType dtype, long... shape) {
        long n = new Shape(shape).size();
        NDArray base = m.arange(0f, (float) n, 1f).sub(n / 3f).mul(0.75f).reshape(shape);
        return base.getDataType() == dtype.dataType() ? base : base.toType(dtype.dataType(), false);
    }

    private static void assertSameTensor(NDArray expected, NDArray actual) {
        assertEquals(expected.getDataType(), actual.getDataType());
        assertEquals(expected.getShape(), actual.getShape());
        assertEquals(expected.toByteBuffer(), actual.toByteBuffer());
    }

    /** Little-endian bytes of small integers (exact in every dtype; booleans as 0/1). */
    private static byte[] encode(SafeTensorsDType dtype, int[] values) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * dtype.bytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            switch (dtype) {
                case F64 -> b.putDouble(v);
                case F32 -> b.putFloat(v);
                case F16 -> b.putShort(half(v));
                case BF16 -> b.putShort((short) (Float.floatToIntBits(v) >>> 16));
                case I64 -> b.putLong(v);
                case I32 -> b.putInt(v);
                case I16 -> b.putShort((short) v);
                case I8, U8 -> b.put((byte) v);
                case BOOL -> b.put((byte) (v != 0 ? 1 : 0));
            }
        }
        return b.array();
    }

    /** IEEE half of a small integer (|v| < 2048), without Java 20's Float.floatToFloat16. */
    private static short half(int v) {
        if (v == 0) {
            return 0;
        }
        int a = Math.abs(v);
        int e = 31 - Integer.numberOfLeadingZeros(a);
        int bits = (v < 0 ? 0x8000 : 0) | (e + 15) << 10 | ((a - (1 << e)) << (10 - e));
        return (short) bits;
    }

    @ParameterizedTest
    @EnumSource(SafeTensorsDType.class)
    void everyDtypeRoundTrips(SafeTensorsDType dtype) throws IOException {
        Path file = dir.resolve("t.safetensors");
        int[] values = dtype == SafeTensorsDType.BOOL ? new int[] {0, 1, 1, 0, 1, 0}
                : dtype == SafeTensorsDType.U8 ? new int[] {0, 1, 2, 200, 7, 255} : new int[] {-3, 0, 1, 2, 100, -7};
        byte[] bytes = encode(dtype, values);
        List<SafeTensorsWriter.Entry> entries = List.of(
                new SafeTensorsWriter.Entry("a", dtype, new Shape(2, 3), out -> out.write(java.nio.ByteBuffer.wrap(bytes))),
                new SafeTensorsWriter.Entry("empty", dtype, new Shape(0, 4), out -> { }));
        SafeTensorsWriter.write(file, entries, Map.of("config", "{\"depth\": 16}"));
        try (NDManager m = Torch.newManager();
                SafeTensorsReader r = SafeTensorsReader.open(file);
                StateDict sd = r.read(m.newSubManager())) {
            assertEquals(Map.of("config", "{\"depth\": 16}"), r.metadata());
            assertEquals(List.of("a", "empty"), List.copyOf(r.tensors().keySet()));
            assertEquals(dtype, r.tensors().get("a").dtype());
            assertEquals(FileRegions.loadedType(dtype), sd.get("a").getDataType());
            assertEquals(new Shape(2, 3), sd.get("a").getShape());
            assertEquals(new Shape(0, 4), sd.get("empty").getShape());
            float[] expected = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                expected[i] = values[i];
            }
            NDArray asFloat = sd.get("a").toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, asFloat.toFloatArray());
            if (FileRegions.loadedType(dtype) == dtype.dataType()) {
                // Tensors in memory write back to the very same bytes.
                Path again = dir.resolve("again.safetensors");
                SafeTensorsWriter.write(again, sd, r.metadata());
                assertEquals(java.util.Arrays.toString(Files.readAllBytes(file)),
                        java.util.Arrays.toString(Files.readAllBytes(again)));
            }
        }
    }

    @Test
    void loadedTensorsAreWritableCopiesNotTheReadOnlyMapping() throws IOException {
        Path file = dir.resolve("w.safetensors");
        try (NDManager m = Torch.newManager()) {
            SafeTensorsWriter.write(file, Map.of("x", m.ones(new Shape(4))), Map.of());
            try (StateDict sd = SafeTensorsReader.readAll(file, m.newSubManager())) {
                sd.get("x").addi(1f); // would crash the JVM on a read-only mapping
                assertEquals(2f, sd.get("x").getFloat(0));
            }
        }
    }

    @Test
    void largeTensorsAreReadAndWrittenPiecewise() throws IOException {
        // The 2 GiB limit of one Java buffer, scaled down: chunks of 40 bytes split every tensor.
        FileRegions.chunkBytes = 40;
        Path file = dir.resolve("big.safetensors");
        try (NDManager m = Torch.newManager()) {
            NDArray f32 = sample(m, SafeTensorsDType.F32, 7, 9);
            NDArray f16 = sample(m, SafeTensorsDType.F16, 33);
            NDArray i64 = sample(m, SafeTensorsDType.I64, 2, 3, 5);
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            tensors.put("f32", f32);
            tensors.put("f16", f16);
            tensors.put("i64", i64);
            SafeTensorsWriter.write(file, tensors, Map.of());
            FileRegions.chunkBytes = defaultChunk;
            try (StateDict whole = SafeTensorsReader.readAll(file, m.newSubManager())) {
                assertSameTensor(f32, whole.get("f32"));
            }
            FileRegions.chunkBytes = 40;
            try (StateDict sd = SafeTensorsReader.readAll(file, m.newSubManager())) {
                assertSameTensor(f32, sd.get("f32"));
                assertSameTensor(f16, sd.get("f16"));
                assertSameTensor(i64, sd.get("i64"));
            }
        }
    }

    @Test
    void replacesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("model.safetensors");
        try (NDManager m = Torch.newManager()) {
            SafeTensorsWriter.write(file, Map.of("x", m.ones(new Shape(2))), Map.of("v", "1"));
            SafeTensorsWriter.write(file, Map.of("y", m.zeros(new Shape(3))), Map.of("v", "2"));
            try (SafeTensorsReader r = SafeTensorsReader.open(file)) {
                assertEquals("2", r.metadata().get("v"));
                assertEquals(List.of("y"), List.copyOf(r.tensors().keySet()));
            }
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(file), files.toList());
            }
        }
    }

    @Test
    void failedWriteKeepsTheOldFileAndCleansUp() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Files.writeString(file, "old");
        List<SafeTensorsWriter.Entry> entries = List.of(new SafeTensorsWriter.Entry("x", SafeTensorsDType.F32,
                new Shape(4), out -> out.write(java.nio.ByteBuffer.allocate(3))));
        assertThrows(IllegalStateException.class, () -> SafeTensorsWriter.write(file, entries, Map.of()));
        assertEquals("old", Files.readString(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void refusesDuplicateAndReservedNames() {
        SafeTensorsWriter.Entry e = new SafeTensorsWriter.Entry("__metadata__", SafeTensorsDType.U8, new Shape(0), out -> { });
        assertThrows(IllegalArgumentException.class, () -> SafeTensorsWriter.header(List.of(e), Map.of()));
        SafeTensorsWriter.Entry a = new SafeTensorsWriter.Entry("a", SafeTensorsDType.U8, new Shape(0), out -> { });
        assertThrows(IllegalArgumentException.class, () -> SafeTensorsWriter.header(List.of(a, a), Map.of()));
        assertFalse(new String(SafeTensorsWriter.header(List.of(a), Map.of())).contains("__metadata__"));
        assertTrue(SafeTensorsWriter.header(List.of(a), Map.of()).length % 8 == 0);
    }

    @Test
    void otherFilesAreNamedNotParsed() throws IOException {
        Path png = dir.resolve("grid.png");
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(4, 4, java.awt.image.BufferedImage.TYPE_INT_RGB);
        javax.imageio.ImageIO.write(image, "png", png.toFile());
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafeTensorsReader.open(png));
        assertEquals(png + ": not a safetensors file (a PNG image)", e.getMessage());
        Path zip = dir.resolve("var_d16.pth");
        Files.write(zip, new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0});
        e = assertThrows(CheckpointFormatException.class, () -> SafeTensorsReader.open(zip));
        assertTrue(e.getMessage().contains("not a safetensors file (a zip archive: a PyTorch .pth checkpoint?"), e.getMessage());
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "hello, world");
        e = assertThrows(CheckpointFormatException.class, () -> SafeTensorsReader.open(text));
        assertEquals(text + ": not a safetensors file (no JSON header after the 8-byte header length)", e.getMessage());
    }

    @Test
    void writtenFilesGetTheUsualPermissionsNotOwnerOnly() throws IOException {
        Path file = dir.resolve("shared.safetensors");
        try (NDManager m = Torch.newManager()) {
            SafeTensorsWriter.write(file, Map.of("x", m.ones(new Shape(2))), Map.of());
        }
        Path reference = Files.createFile(dir.resolve("plain-new-file"));
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(file),
                "a model file is created like any new file (umask), not -rw------- like a temporary file");
    }
}
