package ai.mvar.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Tensors;
import ai.mvar.tokenizer.ScaleSchedule;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a token cache written by {@link TokenCacheWriter}: random access to fixed-size records, so
 * batches are read straight from disk in any order and the file is never held in memory.
 */
public final class TokenCache implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final TokenCacheHeader header;

    private TokenCache(Path file, FileChannel channel, TokenCacheHeader header) {
        this.file = file;
        this.channel = channel;
        this.header = header;
    }

    /** Opens and validates {@code file} (magic, version, and a size that matches the header). */
    public static TokenCache open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            ByteBuffer head = ByteBuffer.allocate((int) Math.min(ch.size(), 4 * 7 + 4 * 64 + 8));
            ch.read(head, 0);
            return new TokenCache(file, ch, TokenCacheHeader.decode(file, head.flip(), ch.size()));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    public ScaleSchedule schedule() {
        return header.schedule();
    }

    public int vocabSize() {
        return header.vocab();
    }

    /** Number of images. */
    public int size() {
        return Math.toIntExact(header.count());
    }

    /**
     * @param whose what expects these tokens, for the message ("the preset d16", "the model")
     * @throws IllegalArgumentException naming this file unless it holds pyramids of {@code schedule} over {@code vocabSize} codes
     */
    public void requireTokens(ScaleSchedule schedule, int vocabSize, String whose) {
        if (!schedule().equals(schedule) || vocabSize() != vocabSize) {
            throw new IllegalArgumentException(file + " holds patch_nums " + schedule() + " over " + vocabSize()
                    + " codes; " + whose + " has " + schedule + " over " + vocabSize);
        }
    }

    /** Whether each image's mirrored variant is stored too. */
    public boolean hasFlipped() {
        return header.variants() == 2;
    }

    /**
     * Reads the images {@code images}, variant {@code flipped[i]} of image i, into {@code manager}:
     * per-scale {@code [B, p_s^2]} int64 indices and {@code [B]} int64 labels.
     */
    public TokenBatch read(int[] images, boolean[] flipped, NDManager manager) throws IOException {
        ScaleSchedule sch = header.schedule();
        int b = images.length;
        int length = sch.length();
        long[] tokens = new long[b * length];
        long[] labels = new long[b];
        ByteBuffer rec = ByteBuffer.allocate((int) header.recordBytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < b; i++) {
            if (flipped[i] && !hasFlipped()) {
                throw new IllegalArgumentException(file + " stores no mirrored variants");
            }
            rec.clear();
            long at = header.byteSize() + images[i] * header.recordBytes();
            while (rec.hasRemaining()) {
                if (channel.read(rec, at + rec.position()) < 0) {
                    throw new IOException(file + ": truncated in the record of image " + images[i]);
                }
            }
            rec.flip();
            labels[i] = rec.getInt();
            rec.position(4 + (flipped[i] ? length * header.indexBytes() : 0));
            for (int t = 0; t < length; t++) {
                tokens[i * length + t] = header.indexBytes() == 2 ? rec.getShort() & 0xffff : rec.getInt();
            }
        }
        List<NDArray> perScale = new ArrayList<>();
        for (int s = 0; s < sch.scales(); s++) {
            long[] scale = new long[b * sch.tokens(s)];
            for (int i = 0; i < b; i++) {
                System.arraycopy(tokens, i * length + sch.begin(s), scale, i * sch.tokens(s), sch.tokens(s));
            }
            perScale.add(Tensors.of(manager, scale, new Shape(b, sch.tokens(s))));
        }
        return new TokenBatch(perScale, Tensors.of(manager, labels), null);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** Per-scale indices, labels, and where the batch was drawn (null when read directly). */
    public record TokenBatch(List<NDArray> indices, NDArray labels, DataPosition position) implements AutoCloseable {
        @Override
        public void close() {
            indices.forEach(NDArray::close);
            labels.close();
        }
    }
}
