package ai.mvar.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.mvar.io.AtomicFile;
import ai.mvar.nn.StateDict;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes safetensors files atomically ({@link AtomicFile}): a crash or a full disk never leaves a
 * half-written checkpoint under the real name. Parent folders are created.
 *
 * <p>Tensors are written one at a time from their {@link TensorBytes}, so converting a checkpoint
 * of many gigabytes needs memory for one tensor at most.
 */
public final class SafeTensorsWriter {
    private SafeTensorsWriter() {}

    /** Produces a tensor's contiguous little-endian bytes. */
    @FunctionalInterface
    public interface TensorBytes {
        void writeTo(WritableByteChannel out) throws IOException;
    }

    /** One tensor to write: its header entry and where its bytes come from. */
    public record Entry(String name, SafeTensorsDType dtype, Shape shape, TensorBytes data) {
        public long byteSize() {
            return Math.multiplyExact(shape.size(), (long) dtype.bytes());
        }

        /** An entry for a tensor already in memory. */
        public static Entry of(String name, NDArray array) {
            return new Entry(name, SafeTensorsDType.of(array.getDataType()), array.getShape(),
                    out -> writeArray(array, out));
        }
    }

    /** Writes every tensor of {@code tensors} in its own dtype, with {@code metadata} in the header. */
    public static void write(Path file, StateDict tensors, Map<String, String> metadata) throws IOException {
        write(file, tensors.tensors(), metadata);
    }

    /** Writes the named tensors in map order. */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata)
            throws IOException {
        List<Entry> entries = new ArrayList<>();
        tensors.forEach((name, array) -> entries.add(Entry.of(name, array)));
        write(file, entries, metadata);
    }

    /** Writes {@code entries} in order; each must produce exactly the bytes its dtype and shape call for. */
    public static void write(Path file, List<Entry> entries, Map<String, String> metadata) throws IOException {
        byte[] header = header(entries, metadata);
        AtomicFile.write(file, out -> {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            writeFully(out, length.flip());
            writeFully(out, ByteBuffer.wrap(header));
            for (Entry e : entries) {
                long before = out.position();
                e.data().writeTo(out);
                long written = out.position() - before;
                if (written != e.byteSize()) {
                    throw new IllegalStateException("tensor '" + e.name() + "' produced " + written
                            + " bytes instead of " + e.byteSize());
                }
            }
        });
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes so tensor data stays aligned. */
    static byte[] header(List<Entry> entries, Map<String, String> metadata) {
        JsonObject json = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            json.add("__metadata__", meta);
        }
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (Entry e : entries) {
            if (e.name().equals("__metadata__") || !names.add(e.name())) {
                throw new IllegalArgumentException("tensor name '" + e.name() + "' is reserved or used twice");
            }
            JsonObject info = new JsonObject();
            info.addProperty("dtype", e.dtype().name());
            JsonArray shape = new JsonArray();
            for (long d : e.shape().getShape()) {
                shape.add(d);
            }
            info.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offset = Math.addExact(offset, e.byteSize());
            offsets.add(offset);
            info.add("data_offsets", offsets);
            json.add(e.name(), info);
        }
        byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) / 8 * 8;
        byte[] header = new byte[padded];
        System.arraycopy(text, 0, header, 0, text.length);
        java.util.Arrays.fill(header, text.length, padded, (byte) ' ');
        return header;
    }

    /** Writes an in-memory tensor's bytes, in slices of a flat view when it exceeds one Java buffer. */
    static void writeArray(NDArray array, WritableByteChannel out) throws IOException {
        long elements = array.getShape().size();
        long elementBytes = array.getDataType().getNumOfBytes();
        if (elements * elementBytes <= FileRegions.chunkBytes) {
            writeFully(out, array.toByteBuffer());
            return;
        }
        long step = Math.max(1, FileRegions.chunkBytes / elementBytes);
        try (NDArray flat = array.reshape(elements)) {
            for (long first = 0; first < elements; first += step) {
                long last = Math.min(elements, first + step);
                try (NDArray part = flat.get(new NDIndex(first + ":" + last))) {
                    writeFully(out, part.toByteBuffer());
                }
            }
        }
    }

    private static void writeFully(WritableByteChannel out, ByteBuffer buffer) throws IOException {
        // Torch hands out native-order buffers; safetensors is little-endian, as is every platform torch supports.
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}
