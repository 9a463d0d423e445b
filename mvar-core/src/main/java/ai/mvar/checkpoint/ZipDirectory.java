package ai.mvar.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The entries of a zip archive as {@code torch.save} writes it: every entry stored uncompressed,
 * so that each one is a plain byte range of the file that can be memory-mapped. Only the central
 * directory is read (zip64 included, as multi-gigabyte checkpoints need it); every offset and
 * size is checked against the file before it is used. {@code java.util.zip} is not used because
 * it hides where an entry's bytes lie.
 */
final class ZipDirectory {
    /** Stored byte range of one entry. */
    record Entry(String name, long offset, long size) {}

    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int LOCAL = 0x04034b50;
    private static final int EOCD_SIZE = 22;
    private static final int MAX_COMMENT = 0xffff;
    /** A central directory larger than this is not a checkpoint's (a d30 one is a few tens of KB). */
    private static final long MAX_DIRECTORY_BYTES = 64L << 20;

    private final Path file;
    private final FileChannel channel;
    private final long size;

    private ZipDirectory(Path file, FileChannel channel) throws IOException {
        this.file = file;
        this.channel = channel;
        this.size = channel.size();
    }

    /** True when the file starts like a zip archive. */
    static boolean isZip(FileChannel channel) throws IOException {
        if (channel.size() < 4) {
            return false;
        }
        ByteBuffer head = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        channel.read(head, 0);
        return head.flip().remaining() == 4 && head.getInt() == LOCAL;
    }

    /** Every entry of the archive by name, in directory order. */
    static Map<String, Entry> read(Path file, FileChannel channel) throws IOException {
        return new ZipDirectory(file, channel).entries();
    }

    private Map<String, Entry> entries() throws IOException {
        long eocd = findEndOfDirectory();
        ByteBuffer end = read(eocd, EOCD_SIZE);
        long count = end.getShort(10) & 0xffff;
        long directorySize = end.getInt(12) & 0xffffffffL;
        long directoryOffset = end.getInt(16) & 0xffffffffL;
        if (count == 0xffff || directorySize == 0xffffffffL || directoryOffset == 0xffffffffL) {
            if (eocd < 20) {
                throw fail("zip64 archive without a zip64 locator");
            }
            ByteBuffer locator = read(eocd - 20, 20);
            if (locator.getInt(0) != ZIP64_LOCATOR) {
                throw fail("zip64 archive without a zip64 locator");
            }
            long recordOffset = checkedOffset(locator.getLong(8), 56);
            ByteBuffer record = read(recordOffset, 56);
            if (record.getInt(0) != ZIP64_EOCD) {
                throw fail("zip64 end of directory record not found");
            }
            count = record.getLong(32);
            directorySize = record.getLong(40);
            directoryOffset = record.getLong(48);
        }
        if (directorySize > MAX_DIRECTORY_BYTES || count < 0 || count > directorySize / 46) {
            throw fail("central directory of " + directorySize + " bytes with " + count + " entries");
        }
        ByteBuffer directory = read(checkedOffset(directoryOffset, directorySize), (int) directorySize);
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (long i = 0; i < count; i++) {
            Entry e = entry(directory);
            if (entries.put(e.name(), e) != null) {
                throw fail("entry '" + e.name() + "' appears twice");
            }
        }
        return Collections.unmodifiableMap(entries);
    }

    private Entry entry(ByteBuffer dir) throws IOException {
        if (dir.remaining() < 46 || dir.getInt(dir.position()) != CENTRAL) {
            throw fail("corrupt central directory");
        }
        int at = dir.position();
        int method = dir.getShort(at + 10) & 0xffff;
        long compressed = dir.getInt(at + 20) & 0xffffffffL;
        long uncompressed = dir.getInt(at + 24) & 0xffffffffL;
        int nameLength = dir.getShort(at + 28) & 0xffff;
        int extraLength = dir.getShort(at + 30) & 0xffff;
        int commentLength = dir.getShort(at + 32) & 0xffff;
        long localOffset = dir.getInt(at + 42) & 0xffffffffL;
        if (dir.remaining() < 46 + nameLength + extraLength + commentLength) {
            throw fail("corrupt central directory");
        }
        byte[] nameBytes = new byte[nameLength];
        dir.position(at + 46);
        dir.get(nameBytes);
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        // Zip64 extra field: the 8-byte values of exactly the fields saturated above, in this order.
        int extraEnd = dir.position() + extraLength;
        while (dir.position() + 4 <= extraEnd) {
            int id = dir.getShort() & 0xffff;
            int length = dir.getShort() & 0xffff;
            int next = dir.position() + length;
            if (next > extraEnd) {
                throw fail("corrupt extra field of '" + name + "'");
            }
            if (id == 0x0001) {
                if (uncompressed == 0xffffffffL && dir.position() + 8 <= next) {
                    uncompressed = dir.getLong();
                }
                if (compressed == 0xffffffffL && dir.position() + 8 <= next) {
                    compressed = dir.getLong();
                }
                if (localOffset == 0xffffffffL && dir.position() + 8 <= next) {
                    localOffset = dir.getLong();
                }
            }
            dir.position(next);
        }
        dir.position(extraEnd + commentLength);
        if (method != 0 || compressed != uncompressed) {
            throw fail("entry '" + name + "' is compressed; torch.save stores entries uncompressed");
        }
        ByteBuffer local = read(checkedOffset(localOffset, 30), 30);
        if (local.getInt(0) != LOCAL) {
            throw fail("entry '" + name + "' has no local header");
        }
        long dataOffset = localOffset + 30 + (local.getShort(26) & 0xffff) + (local.getShort(28) & 0xffff);
        return new Entry(name, checkedOffset(dataOffset, uncompressed), uncompressed);
    }

    private long findEndOfDirectory() throws IOException {
        if (size < EOCD_SIZE) {
            throw fail("too short for a zip archive (" + size + " bytes)");
        }
        int window = (int) Math.min(size, EOCD_SIZE + MAX_COMMENT);
        ByteBuffer tail = read(size - window, window);
        for (int i = window - EOCD_SIZE; i >= 0; i--) {
            if (tail.getInt(i) == EOCD) {
                return size - window + i;
            }
        }
        throw fail("no zip end-of-directory record (truncated file?)");
    }

    /** Checks that {@code [offset, offset + length)} lies inside the file. */
    private long checkedOffset(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw fail("range of " + length + " bytes at " + offset + " is outside the file of " + size
                    + " bytes (truncated file?)");
        }
        return offset;
    }

    private ByteBuffer read(long offset, int length) throws IOException {
        checkedOffset(offset, length);
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        long position = offset;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position);
            if (n < 0) {
                throw fail("unexpected end of file");
            }
            position += n;
        }
        return buffer.flip();
    }

    private CheckpointFormatException fail(String problem) {
        return new CheckpointFormatException(file, "zip: " + problem);
    }
}
