package ai.mvar.train.data;

import ai.mvar.tokenizer.ScaleSchedule;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * The fixed part of a token cache file, little-endian: magic {@code "MVTC"}, version, K, the K
 * patch sizes, vocabulary size, variants per image (1, or 2 with the mirrored image), bytes per
 * index (2 = uint16 when V <= 65536, else 4) and the image count. Records follow, one per image:
 * an int32 label, then for each variant the L indices of every scale in sequence order.
 */
record TokenCacheHeader(ScaleSchedule schedule, int vocab, int variants, int indexBytes, long count) {
    static final int MAGIC = 0x4354564D; // "MVTC" read little-endian
    static final int VERSION = 1;

    static TokenCacheHeader of(ScaleSchedule schedule, int vocab, int variants, long count) {
        return new TokenCacheHeader(schedule, vocab, variants, vocab <= 65536 ? 2 : 4, count);
    }

    int byteSize() {
        return 4 * 7 + 4 * schedule.scales() + 8;
    }

    /** Bytes of one image's record. */
    long recordBytes() {
        return 4L + (long) variants * schedule.length() * indexBytes;
    }

    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putInt(VERSION).putInt(schedule.scales());
        for (int p : schedule.patchNums()) {
            b.putInt(p);
        }
        b.putInt(vocab).putInt(variants).putInt(indexBytes).putInt(0).putLong(count);
        return b.flip();
    }

    /** Parses and validates the header, naming {@code file} in every error. */
    static TokenCacheHeader decode(Path file, ByteBuffer b, long fileSize) throws IOException {
        b.order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 12 || b.getInt() != MAGIC) {
            throw new IOException(file + ": not a token cache (bad magic)");
        }
        int version = b.getInt();
        if (version != VERSION) {
            throw new IOException(file + ": token cache version " + version + ", this reader knows " + VERSION);
        }
        int k = b.getInt();
        if (k <= 0 || k > 64 || b.remaining() < 4 * k + 24) {
            throw new IOException(file + ": implausible scale count " + k);
        }
        int[] patchNums = new int[k];
        for (int i = 0; i < k; i++) {
            patchNums[i] = b.getInt();
        }
        int vocab = b.getInt();
        int variants = b.getInt();
        int indexBytes = b.getInt();
        b.getInt(); // reserved, keeps the count 8-byte aligned
        long count = b.getLong();
        if (vocab <= 0 || (variants != 1 && variants != 2) || (indexBytes != 2 && indexBytes != 4) || count < 0) {
            throw new IOException(file + ": invalid header (vocab " + vocab + ", variants " + variants
                    + ", index bytes " + indexBytes + ", count " + count + ")");
        }
        TokenCacheHeader h = new TokenCacheHeader(new ScaleSchedule(patchNums), vocab, variants, indexBytes, count);
        long expected = h.byteSize() + count * h.recordBytes();
        if (fileSize != expected) {
            throw new IOException(file + ": " + fileSize + " bytes, the header (" + count + " images) needs "
                    + expected + " (truncated or trailing data)");
        }
        return h;
    }
}
