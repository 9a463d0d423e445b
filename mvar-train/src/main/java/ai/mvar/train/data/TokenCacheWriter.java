package ai.mvar.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.io.AtomicFile;
import ai.mvar.nn.Tensors;
import ai.mvar.nn.Scope;
import ai.mvar.tokenizer.VqVae;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tokenizes a data set once, centre-cropped (and mirrored too when asked), into a token cache
 * file. The file appears atomically ({@link AtomicFile}), so an interrupted run never leaves a
 * half-written cache behind.
 * Every batch is encoded in its own scope, so native memory stays flat however large the data set.
 */
public final class TokenCacheWriter {
    private static final Logger LOG = LoggerFactory.getLogger(TokenCacheWriter.class);

    private TokenCacheWriter() {}

    /**
     * Writes the tokens of every image of {@code dataset} to {@code file}.
     *
     * @param withFlipped also store the tokens of each mirrored image
     * @param progress told the number of images done after each batch
     */
    public static void write(Path file, ImageDataset dataset, VqVae vae, NDManager manager, int batchSize,
            boolean withFlipped, IntConsumer progress) throws IOException {
        if (dataset.imageSize() != vae.config().imageSize()) {
            throw new IllegalArgumentException("data set images are " + dataset.imageSize() + " px, the tokenizer encodes "
                    + vae.config().imageSize() + " px");
        }
        TokenCacheHeader header = TokenCacheHeader.of(vae.config().schedule(), vae.config().vocabSize(),
                withFlipped ? 2 : 1, dataset.size());
        AtomicFile.write(file, out -> {
            writeFully(out, header.encode());
            for (int start = 0; start < dataset.size(); start += batchSize) {
                int end = Math.min(dataset.size(), start + batchSize);
                writeFully(out, encodeBatch(dataset, vae, manager, header, start, end));
                progress.accept(end);
            }
        });
        LOG.info("token cache {}: {} images x {} variants, patch_nums {}", file, dataset.size(), header.variants(),
                header.schedule());
    }

    private static ByteBuffer encodeBatch(ImageDataset dataset, VqVae vae, NDManager manager, TokenCacheHeader h,
            int start, int end) {
        int b = end - start;
        int s = dataset.imageSize();
        int plane = 3 * s * s;
        float[] pixels = new float[b * plane];
        int[] labels = new int[b];
        for (int i = 0; i < b; i++) {
            ImageDataset.Sample sample = dataset.sample(start + i, Augment.CENTRE);
            System.arraycopy(sample.pixels(), 0, pixels, i * plane, plane);
            labels[i] = sample.label();
        }
        long[][] variants = new long[h.variants()][];
        Scope.run(() -> {
            NDArray images = Tensors.of(manager, pixels, new Shape(b, 3, s, s));
            variants[0] = flatten(vae.encode(images), b, h);
            if (h.variants() == 2) {
                variants[1] = flatten(vae.encode(images.flip(3)), b, h);
            }
        });
        ByteBuffer buf = ByteBuffer.allocate((int) (b * h.recordBytes())).order(ByteOrder.LITTLE_ENDIAN);
        int length = h.schedule().length();
        for (int i = 0; i < b; i++) {
            buf.putInt(labels[i]);
            for (long[] v : variants) {
                for (int t = 0; t < length; t++) {
                    long idx = v[i * length + t];
                    if (h.indexBytes() == 2) {
                        buf.putShort((short) idx); // uint16: read back with & 0xffff
                    } else {
                        buf.putInt((int) idx);
                    }
                }
            }
        }
        return buf.flip();
    }

    /** Per-scale {@code [B, p^2]} indices to {@code [B, L]} in sequence order. */
    private static long[] flatten(List<NDArray> perScale, int b, TokenCacheHeader h) {
        int length = h.schedule().length();
        long[] out = new long[b * length];
        for (int s = 0; s < perScale.size(); s++) {
            long[] idx = perScale.get(s).toLongArray();
            int tokens = h.schedule().tokens(s);
            for (int i = 0; i < b; i++) {
                System.arraycopy(idx, i * tokens, out, i * length + h.schedule().begin(s), tokens);
            }
        }
        return out;
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }
}
