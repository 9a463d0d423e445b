package ai.mvar.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.mvar.nn.StateDict;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads PyTorch checkpoints without Python: the zip format of {@code torch.save} ({@code
 * <prefix>/data.pkl} plus one stored entry per storage, any archive prefix, either byte order) and
 * the legacy format (magic number, protocol, system info, object, storage keys, then the storages).
 * The object is rebuilt by the {@link Unpickler}, which never runs code the file names; tensors
 * stay descriptors ({@link TorchTensor}) until {@link #load} or {@link #copyBytes} reads their bytes
 * through memory maps.
 */
public final class TorchCheckpointReader implements AutoCloseable {
    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL = 1001;
    /** data.pkl of the largest official checkpoint is well under a megabyte. */
    private static final long MAX_PICKLE_BYTES = 256L << 20;

    private final Path file;
    private final FileChannel channel;
    private final Map<String, TorchStorage> storages = new HashMap<>();
    private final Map<String, Long> regions = new HashMap<>();
    private final Object root;
    private boolean bigEndian;

    private TorchCheckpointReader(Path file) throws IOException {
        this.file = file;
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            root = ZipDirectory.isZip(channel) ? readZip() : readLegacy();
        } catch (ArithmeticException e) {
            channel.close();
            throw new CheckpointFormatException(file, "size out of range: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Opens a checkpoint and unpickles its object; no tensor data is read yet. */
    public static TorchCheckpointReader open(Path file) throws IOException {
        return new TorchCheckpointReader(file);
    }

    /**
     * Reads one state dict of {@code file} into {@code manager}, each tensor in its stored dtype.
     *
     * @param key where the state dict sits (see {@link StateDictLocator}); null to search the usual places
     */
    public static StateDict readStateDict(Path file, String key, NDManager manager) throws IOException {
        try (TorchCheckpointReader reader = open(file)) {
            return reader.read(reader.stateDict(key), manager);
        }
    }

    public Path file() {
        return file;
    }

    /**
     * The unpickled object: maps, lists, {@link PyTuple}s, numbers, strings, {@link TorchTensor}s
     * and {@link Placeholder}s for everything else.
     */
    public Object root() {
        return root;
    }

    /** True when the archive stores its data big-endian; bytes are swapped on reading. */
    public boolean bigEndian() {
        return bigEndian;
    }

    /** The state dict at {@code key}, or found in the usual places when {@code key} is null. */
    public Map<String, TorchTensor> stateDict(String key) {
        return StateDictLocator.find(root, key, file);
    }

    /** Every tensor of {@code tensors}, loaded into a new state dict owned by {@code manager}. */
    public StateDict read(Map<String, TorchTensor> tensors, NDManager manager) throws IOException {
        StateDict sd = new StateDict(manager, file.toString());
        for (Map.Entry<String, TorchTensor> e : tensors.entrySet()) {
            NDArray array = load(e.getValue(), manager);
            array.setName(e.getKey());
            sd.put(e.getKey(), array);
        }
        return sd;
    }

    /** One tensor, contiguous, in its stored dtype (bf16 and int16 widened, see {@link SafeTensorsReader#load}). */
    public NDArray load(TorchTensor tensor, NDManager manager) throws IOException {
        if (tensor.isContiguous() && !needsSwap(tensor)) {
            return FileRegions.load(channel, start(tensor), tensor.byteSize(), tensor.shape(), tensor.dtype(), manager);
        }
        return FileRegions.create(gather(tensor), tensor.dtype(), tensor.shape(), manager);
    }

    /** Writes one tensor's contiguous little-endian bytes, as safetensors stores them. */
    public void copyBytes(TorchTensor tensor, WritableByteChannel out) throws IOException {
        if (tensor.isContiguous() && !needsSwap(tensor)) {
            FileRegions.copy(channel, start(tensor), tensor.byteSize(), out);
            return;
        }
        ByteBuffer bytes = gather(tensor);
        while (bytes.hasRemaining()) {
            out.write(bytes);
        }
    }

    private boolean needsSwap(TorchTensor tensor) {
        return bigEndian && tensor.dtype().bytes() > 1;
    }

    /** File position of the tensor's first element. */
    private long start(TorchTensor tensor) {
        TorchStorage storage = tensor.storage();
        return regions.get(storage.key()) + (storage.elementOffset() + tensor.offset()) * storage.dtype().bytes();
    }

    /**
     * Copies a strided or big-endian tensor element by element into a new contiguous little-endian
     * buffer. Such tensors are views and small in practice; both the view and the storage range it
     * spans must fit one Java buffer.
     */
    private ByteBuffer gather(TorchTensor tensor) throws IOException {
        int eb = tensor.dtype().bytes();
        long[] shape = tensor.rawShape();
        long[] stride = tensor.rawStride();
        long span = 1;
        for (int i = 0; i < shape.length; i++) {
            span += shape[i] == 0 ? 0 : (shape[i] - 1) * stride[i];
        }
        if (tensor.byteSize() > Integer.MAX_VALUE || span * eb > Integer.MAX_VALUE) {
            throw new CheckpointFormatException(file, "strided or big-endian tensor " + tensor
                    + " spans more than 2 GiB; save it contiguous and little-endian");
        }
        ByteBuffer out = ByteBuffer.allocateDirect((int) tensor.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        if (tensor.numel() == 0) {
            return out;
        }
        ByteBuffer src = FileRegions.map(channel, start(tensor), span * eb);
        long[] index = new long[shape.length];
        byte[] element = new byte[eb];
        for (long n = 0; n < tensor.numel(); n++) {
            long at = 0;
            for (int d = 0; d < shape.length; d++) {
                at += index[d] * stride[d];
            }
            src.get((int) (at * eb), element);
            if (needsSwap(tensor)) {
                for (int i = 0; i < eb / 2; i++) {
                    byte b = element[i];
                    element[i] = element[eb - 1 - i];
                    element[eb - 1 - i] = b;
                }
            }
            out.put(element);
            for (int d = shape.length - 1; d >= 0 && ++index[d] == shape[d]; d--) {
                index[d] = 0;
            }
        }
        return out.flip();
    }

    private Object readZip() throws IOException {
        Map<String, ZipDirectory.Entry> entries = ZipDirectory.read(file, channel);
        ZipDirectory.Entry pickle = null;
        for (ZipDirectory.Entry e : entries.values()) {
            if (e.name().equals("data.pkl") || e.name().endsWith("/data.pkl")) {
                if (pickle != null) {
                    throw new CheckpointFormatException(file, "archive holds two data.pkl entries");
                }
                pickle = e;
            }
        }
        if (pickle == null) {
            throw new CheckpointFormatException(file, "zip archive without data.pkl: not a torch.save checkpoint");
        }
        String prefix = pickle.name().substring(0, pickle.name().length() - "data.pkl".length());
        ZipDirectory.Entry order = entries.get(prefix + "byteorder");
        if (order != null) {
            String text = new String(bytes(order.offset(), (int) Math.min(order.size(), 16)), StandardCharsets.US_ASCII);
            if (!text.equals("little") && !text.equals("big")) {
                throw new CheckpointFormatException(file, "byteorder entry says '" + text + "'");
            }
            bigEndian = text.equals("big");
        }
        if (pickle.size() > MAX_PICKLE_BYTES) {
            throw new CheckpointFormatException(file, "data.pkl of " + pickle.size() + " bytes");
        }
        ByteBuffer data = FileRegions.map(channel, pickle.offset(), pickle.size());
        return new Unpickler(file, data, pid -> zipStorage(pid, prefix, entries)).load();
    }

    private Object zipStorage(Object pid, String prefix, Map<String, ZipDirectory.Entry> entries) {
        StorageId id = StorageId.parse(pid);
        TorchStorage storage = storage(id, 0, id.numel());
        ZipDirectory.Entry entry = entries.get(prefix + "data/" + id.key());
        if (entry == null) {
            throw new IllegalArgumentException("storage '" + id.key() + "' has no entry " + prefix + "data/" + id.key());
        }
        if (entry.size() != Math.multiplyExact(id.numel(), (long) id.dtype().bytes())) {
            throw new IllegalArgumentException("storage '" + id.key() + "' holds " + entry.size() + " bytes, not "
                    + id.numel() + " " + id.dtype() + " elements");
        }
        regions.put(id.key(), entry.offset());
        return storage;
    }

    /** One storage per key; a key reused with another dtype or size is refused. */
    private TorchStorage storage(StorageId id, long elementOffset, long numel) {
        TorchStorage root = storages.computeIfAbsent(id.key(),
                k -> new TorchStorage(k, id.dtype(), 0, id.numel(), id.location()));
        if (root.dtype() != id.dtype() || root.numel() != id.numel()) {
            throw new IllegalArgumentException("storage '" + id.key() + "' is declared twice with different types");
        }
        if (elementOffset == 0 && numel == id.numel()) {
            return root;
        }
        if (elementOffset < 0 || numel < 0 || elementOffset > id.numel() || numel > id.numel() - elementOffset) {
            throw new IllegalArgumentException("storage view outside storage '" + id.key() + "'");
        }
        return new TorchStorage(id.key(), id.dtype(), elementOffset, numel, id.location());
    }

    private Object readLegacy() throws IOException {
        long size = channel.size();
        ByteBuffer all = FileRegions.map(channel, 0, Math.min(size, Integer.MAX_VALUE));
        Unpickler magic = new Unpickler(file, all, this::noPersistentIds);
        Object number;
        try {
            number = magic.load();
        } catch (CheckpointFormatException e) {
            number = null;
        }
        if (!LEGACY_MAGIC.equals(asBig(number))) {
            throw new CheckpointFormatException(file, "neither a zip checkpoint nor a legacy torch.save file");
        }
        all.position(all.position() + magic.position());
        Object protocol = next(all, this::noPersistentIds);
        if (!Long.valueOf(LEGACY_PROTOCOL).equals(protocol)) {
            throw new CheckpointFormatException(file, "legacy protocol " + protocol + " is not 1001");
        }
        Object sysInfo = next(all, this::noPersistentIds);
        if (sysInfo instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian"))) {
            bigEndian = true;
        }
        Object result = next(all, pid -> {
            StorageId id = StorageId.parse(pid);
            return id.view() == null ? storage(id, 0, id.numel())
                    : storage(id, id.view().offset(), id.view().numel());
        });
        Object keys = next(all, this::noPersistentIds);
        if (!(keys instanceof List<?> list)) {
            throw new CheckpointFormatException(file, "legacy storage key list missing");
        }
        long position = all.position();
        for (Object key : list) {
            TorchStorage storage = key instanceof String k ? storages.get(k) : null;
            if (storage == null) {
                throw new CheckpointFormatException(file, "legacy storage key " + PyValues.typeName(key)
                        + " is not used by any tensor");
            }
            ByteBuffer count = ByteBuffer.wrap(bytes(position, 8))
                    .order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            long numel = count.getLong();
            if (numel != storage.numel()) {
                throw new CheckpointFormatException(file, "legacy storage '" + storage.key() + "' records "
                        + numel + " elements, the pickle " + storage.numel());
            }
            long bytes = Math.multiplyExact(storage.numel(), (long) storage.dtype().bytes());
            if (bytes > size - position - 8) {
                throw new CheckpointFormatException(file, "legacy storage '" + storage.key() + "' runs past the end"
                        + " of the file (truncated file?)");
            }
            regions.put(storage.key(), position + 8);
            position += 8 + bytes;
        }
        for (TorchStorage s : storages.values()) {
            if (!regions.containsKey(s.key())) {
                throw new CheckpointFormatException(file, "legacy storage '" + s.key() + "' is not in the file");
            }
        }
        return result;
    }

    private Object next(ByteBuffer all, java.util.function.Function<Object, Object> persistent) {
        Unpickler u = new Unpickler(file, all, persistent);
        Object value = u.load();
        all.position(all.position() + u.position());
        return value;
    }

    private Object noPersistentIds(Object pid) {
        throw new IllegalArgumentException("unexpected persistent id");
    }

    private static BigInteger asBig(Object o) {
        if (o instanceof BigInteger b) {
            return b;
        }
        return o instanceof Long l ? BigInteger.valueOf(l) : null;
    }

    private byte[] bytes(long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new CheckpointFormatException(file, "unexpected end of file (truncated file?)");
            }
            at += n;
        }
        return buffer.array();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
