package ai.mvar.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Turns a byte range of a checkpoint file into a tensor, or streams it to another file, through
 * memory maps of at most {@link #chunkBytes} bytes.
 *
 * <p>A tensor is copied exactly once, from the mapping into memory that torch owns. Handing torch
 * the mapping itself would save that copy, but the mapping is read-only (checkpoints are opened
 * read-only) and any in-place update of such a tensor would crash the JVM. The mapping is page
 * cache, not a second copy in process memory. A Java buffer holds at most 2 GiB, so larger tensors
 * are filled piecewise, one mapped chunk at a time.
 *
 * <p>DJL's PyTorch engine cannot hold bf16 or int16 tensors: asking it for one aborts the JVM. Such
 * tensors therefore load widened, exactly, to float32 and int32 ({@link #loadedType}); files keep
 * their stored dtype.
 */
final class FileRegions {
    /** Largest mapping made at once; lowered by tests to exercise the piecewise path. */
    static long chunkBytes = 1L << 30;

    private FileRegions() {}

    /** Maps {@code [position, position + length)} read-only, little-endian. */
    static MappedByteBuffer map(FileChannel channel, long position, long length) throws IOException {
        MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_ONLY, position, length);
        buffer.order(ByteOrder.LITTLE_ENDIAN);
        return buffer;
    }

    /** The type a stored dtype loads as: itself, or its exact widening where DJL lacks the type. */
    static DataType loadedType(SafeTensorsDType stored) {
        return switch (stored) {
            case BF16 -> DataType.FLOAT32;
            case I16 -> DataType.INT32;
            default -> stored.dataType();
        };
    }

    /**
     * A tensor of {@code shape} whose little-endian, contiguous bytes of dtype {@code stored} are
     * {@code length} bytes of {@code channel} from {@code position}.
     */
    static NDArray load(FileChannel channel, long position, long length, Shape shape, SafeTensorsDType stored,
            NDManager manager) throws IOException {
        if (length == 0) {
            return manager.create(shape, loadedType(stored));
        }
        if (length <= chunkBytes) {
            return create(map(channel, position, length), stored, shape, manager);
        }
        return loadPiecewise(channel, position, length, shape, stored, manager);
    }

    /** A tensor holding a copy of {@code littleEndian}'s elements (the buffer is not retained). */
    static NDArray create(ByteBuffer littleEndian, SafeTensorsDType stored, Shape shape, NDManager manager) {
        if (loadedType(stored) != stored.dataType()) {
            return manager.create(widen(littleEndian, stored), shape, loadedType(stored));
        }
        try (NDArray view = manager.create(littleEndian, shape, stored.dataType())) {
            return view.duplicate();
        }
    }

    /** bf16 to float32 (its upper half) and int16 to int32 (sign-extended): exact. */
    private static ByteBuffer widen(ByteBuffer in, SafeTensorsDType stored) {
        ByteBuffer src = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocateDirect(Math.multiplyExact(src.remaining(), 2)).order(ByteOrder.nativeOrder());
        while (src.remaining() >= 2) {
            short v = src.getShort();
            if (stored == SafeTensorsDType.BF16) {
                out.putInt((v & 0xffff) << 16);
            } else {
                out.putInt(v);
            }
        }
        return out.flip();
    }

    private static NDArray loadPiecewise(FileChannel channel, long position, long length, Shape shape,
            SafeTensorsDType stored, NDManager manager) throws IOException {
        DataType type = loadedType(stored);
        int elementBytes = stored.bytes();
        // Chunks end on element boundaries so that each one is a whole 1-d tensor.
        long step = Math.max(elementBytes, chunkBytes - chunkBytes % elementBytes);
        NDArray out = manager.create(shape, type);
        try (NDArray flat = out.reshape(shape.size())) {
            for (long done = 0; done < length; done += step) {
                long bytes = Math.min(step, length - done);
                long first = done / elementBytes;
                long count = bytes / elementBytes;
                try (NDArray part = create(map(channel, position + done, bytes), stored, new Shape(count), manager)) {
                    flat.set(new NDIndex(first + ":" + (first + count)), part);
                }
            }
        } catch (IOException | RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** Copies {@code length} bytes of {@code channel} from {@code position} to {@code out}. */
    static void copy(FileChannel channel, long position, long length, WritableByteChannel out) throws IOException {
        for (long done = 0; done < length; ) {
            long bytes = Math.min(chunkBytes, length - done);
            ByteBuffer buffer = map(channel, position + done, bytes);
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            done += bytes;
        }
    }
}
