package ai.mvar.train;

import ai.djl.ndarray.NDArray;
import ai.mvar.checkpoint.SafeTensorsDType;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The minimal safetensors writer training checkpoints need: a JSON header padded with spaces to 8
 * bytes, then every tensor's little-endian bytes in header order. Package-private on purpose: it
 * stands in until {@code ai.mvar.checkpoint} in core has a writer, and should then be replaced by it.
 */
final class SafeTensorsWriter {
    private SafeTensorsWriter() {}

    /** Writes {@code tensors} and {@code metadata} to {@code out} from its current position. */
    static void write(FileChannel out, Map<String, NDArray> tensors, Map<String, String> metadata) throws IOException {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            NDArray t = e.getValue();
            SafeTensorsDType dtype = SafeTensorsDType.of(t.getDataType());
            long bytes = t.getShape().size() * dtype.bytes();
            JsonObject info = new JsonObject();
            info.addProperty("dtype", dtype.name());
            JsonArray shape = new JsonArray();
            for (long d : t.getShape().getShape()) {
                shape.add(d);
            }
            info.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            info.add("data_offsets", offsets);
            header.add(e.getKey(), info);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        writeFully(out, head.flip());
        for (NDArray t : tensors.values()) {
            ByteBuffer data = t.toByteBuffer();
            if (data.order() != ByteOrder.LITTLE_ENDIAN && ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                throw new IOException("safetensors is little-endian; this platform's native order is not");
            }
            writeFully(out, data);
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }
}
