package ai.mvar.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.StateDict;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a safetensors file. The header is validated in full before any tensor is read (declared
 * length, dtypes, shapes times element size equal to byte ranges, ranges inside the file and not
 * overlapping); tensor data is memory-mapped and copied once into memory torch owns, piecewise for
 * tensors over 2 GiB, so a multi-gigabyte checkpoint is never held twice.
 */
public final class SafeTensorsReader implements AutoCloseable {
    /** Headers larger than this are refused: real ones are a few hundred kilobytes. */
    static final long MAX_HEADER_BYTES = 100L << 20;

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafeTensorsReader(Path file) throws IOException {
        this.file = file;
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = channel.size();
            if (size < 8) {
                throw new CheckpointFormatException(file, "truncated: " + size + " bytes, no header length");
            }
            ByteBuffer start = ByteBuffer.allocate((int) Math.min(size, 9)).order(ByteOrder.LITTLE_ENDIAN);
            readFully(start, 0);
            // Every safetensors header is a JSON object: its first byte follows the 8-byte length.
            if (size > 8 && start.get(8) != '{') {
                String what = foreignKind(start.array());
                throw new CheckpointFormatException(file, "not a safetensors file"
                        + (what != null ? " (" + what + ")" : " (no JSON header after the 8-byte header length)"));
            }
            long headerLength = start.getLong(0);
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw new CheckpointFormatException(file, "declared header length " + headerLength
                        + " does not fit a file of " + size + " bytes");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(header, 8);
            dataStart = 8 + headerLength;
            JsonObject json = parseHeader(new String(header.array(), StandardCharsets.UTF_8));
            Map<String, String> meta = new LinkedHashMap<>();
            Map<String, TensorInfo> infos = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : json.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    meta.putAll(parseMetadata(e.getValue()));
                } else {
                    infos.put(e.getKey(), parseInfo(e.getKey(), e.getValue()));
                }
            }
            checkRanges(infos, size - dataStart);
            tensors = Collections.unmodifiableMap(infos);
            metadata = Collections.unmodifiableMap(meta);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** What a file that is not safetensors looks like, from its first bytes; null when unknown. */
    private static String foreignKind(byte[] b) {
        if (b[0] == (byte) 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
            return "a PNG image";
        }
        if (b[0] == (byte) 0xFF && b[1] == (byte) 0xD8 && b[2] == (byte) 0xFF) {
            return "a JPEG image";
        }
        if (b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) {
            return "a zip archive: a PyTorch .pth checkpoint? 'mvar import' converts it";
        }
        if (b[0] == (byte) 0x80 && b[1] >= 2 && b[1] <= 5) {
            return "a Python pickle: a legacy PyTorch checkpoint? 'mvar import' converts it";
        }
        if (b[0] == '{') {
            return "JSON text: a preset? presets are passed with --preset";
        }
        return null;
    }

    /** Opens and validates a safetensors file. */
    public static SafeTensorsReader open(Path file) throws IOException {
        return new SafeTensorsReader(file);
    }

    /** Reads every tensor of {@code file} into a new state dict owned by {@code manager}. */
    public static StateDict readAll(Path file, NDManager manager) throws IOException {
        try (SafeTensorsReader reader = open(file)) {
            return reader.read(manager);
        }
    }

    public Path file() {
        return file;
    }

    /** The string metadata of the header ({@code __metadata__}). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Every tensor's entry, in header order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /**
     * One tensor, in its stored dtype, created in {@code manager}; bf16 and int16 load as float32 and
     * int32, exactly, because DJL's PyTorch engine cannot represent them.
     */
    public NDArray load(String name, NDManager manager) throws IOException {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new IllegalArgumentException(file + ": no tensor named '" + name + "'");
        }
        NDArray array = FileRegions.load(channel, dataStart + info.begin(), info.byteSize(), info.shape(),
                info.dtype(), manager);
        array.setName(name);
        return array;
    }

    /** Copies one tensor's stored bytes, unchanged, to {@code out}. */
    public void copyBytes(String name, WritableByteChannel out) throws IOException {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new IllegalArgumentException(file + ": no tensor named '" + name + "'");
        }
        long position = dataStart + info.begin();
        long end = dataStart + info.end();
        while (position < end) {
            long moved = channel.transferTo(position, end - position, out);
            if (moved <= 0) {
                throw new CheckpointFormatException(file, "tensor '" + name + "' ends early");
            }
            position += moved;
        }
    }

    /** Every tensor, into a new state dict owned by {@code manager}. */
    public StateDict read(NDManager manager) throws IOException {
        StateDict sd = new StateDict(manager, file.toString());
        for (String name : tensors.keySet()) {
            sd.put(name, load(name, manager));
        }
        return sd;
    }

    private void readFully(ByteBuffer buffer, long position) throws IOException {
        long pos = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, pos);
            if (n < 0) {
                throw new CheckpointFormatException(file, "truncated while reading the header");
            }
            pos += n;
        }
    }

    private JsonObject parseHeader(String text) {
        try {
            JsonElement root = JsonParser.parseString(text.trim());
            if (!root.isJsonObject()) {
                throw new CheckpointFormatException(file, "header is not a JSON object");
            }
            return root.getAsJsonObject();
        } catch (RuntimeException e) {
            if (e instanceof CheckpointFormatException) {
                throw e;
            }
            throw new CheckpointFormatException(file, "header is not valid JSON: " + e.getMessage(), e);
        }
    }

    private Map<String, String> parseMetadata(JsonElement value) {
        if (!value.isJsonObject()) {
            throw new CheckpointFormatException(file, "__metadata__ is not an object");
        }
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
            if (!e.getValue().isJsonPrimitive() || !e.getValue().getAsJsonPrimitive().isString()) {
                throw new CheckpointFormatException(file, "__metadata__ value of '" + e.getKey() + "' is not a string");
            }
            meta.put(e.getKey(), e.getValue().getAsString());
        }
        return meta;
    }

    private TensorInfo parseInfo(String name, JsonElement value) {
        try {
            JsonObject o = value.getAsJsonObject();
            SafeTensorsDType dtype = SafeTensorsDType.parse(o.get("dtype").getAsString(), name);
            List<Long> dims = new ArrayList<>();
            for (JsonElement d : o.getAsJsonArray("shape")) {
                long dim = d.getAsLong();
                if (dim < 0) {
                    throw new IllegalArgumentException("negative dimension " + dim);
                }
                dims.add(dim);
            }
            long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
            var offsets = o.getAsJsonArray("data_offsets");
            if (offsets.size() != 2) {
                throw new IllegalArgumentException("data_offsets must hold two numbers");
            }
            long begin = offsets.get(0).getAsLong();
            long end = offsets.get(1).getAsLong();
            long elements = 1;
            for (long dim : shape) {
                elements = Math.multiplyExact(elements, dim);
            }
            long expected = Math.multiplyExact(elements, (long) dtype.bytes());
            if (begin < 0 || end < begin || end - begin != expected) {
                throw new IllegalArgumentException("data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                        + " bytes but " + dtype + " " + java.util.Arrays.toString(shape) + " needs " + expected);
            }
            return new TensorInfo(name, dtype, new Shape(shape), begin, end);
        } catch (CheckpointFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CheckpointFormatException(file, "tensor '" + name + "': " + e.getMessage(), e);
        }
    }

    private void checkRanges(Map<String, TensorInfo> infos, long dataBytes) {
        List<TensorInfo> sorted = new ArrayList<>(infos.values());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long previousEnd = 0;
        String previous = null;
        for (TensorInfo t : sorted) {
            if (t.end() > dataBytes) {
                throw new CheckpointFormatException(file, "tensor '" + t.name() + "' ends at byte " + t.end()
                        + " of a data section of " + dataBytes + " bytes (truncated file?)");
            }
            if (t.byteSize() > 0 && t.begin() < previousEnd) {
                throw new CheckpointFormatException(file, "tensors '" + previous + "' and '" + t.name() + "' overlap");
            }
            if (t.byteSize() > 0) {
                previousEnd = t.end();
                previous = t.name();
            }
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
