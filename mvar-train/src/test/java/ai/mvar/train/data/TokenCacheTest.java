package ai.mvar.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.TinyModels;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenCacheTest {

    @Test
    void storesExactlyWhatTheTokenizerEncodesForImagesAndMirrors(@TempDir Path dir) throws IOException {
        ImageDataset images = TinyModels.randomImages(7, 16, 3);
        Path file = dir.resolve("tokens.mvtc");
        List<Integer> progress = new ArrayList<>();
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenCacheWriter.write(file, images, vae, m, 3, true, progress::add);
            assertEquals(List.of(3, 6, 7), progress);
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(List.of(file), s.toList(), "no temporary file is left behind");
            }
            try (TokenCache cache = TokenCache.open(file)) {
                assertEquals(7, cache.size());
                assertEquals(64, cache.vocabSize());
                assertEquals(vae.config().schedule(), cache.schedule());
                assertTrue(cache.hasFlipped());
                int[] pick = {4, 0, 6};
                for (boolean flipped : new boolean[] {false, true}) {
                    try (NDManager batch = m.newSubManager();
                            TokenCache.TokenBatch tb = cache.read(pick, new boolean[] {flipped, flipped, flipped}, batch)) {
                        List<NDArray> expected = vae.encode(stack(batch, images, pick, flipped));
                        for (int s = 0; s < expected.size(); s++) {
                            assertEquals(new Shape(3, vae.config().schedule().tokens(s)), tb.indices().get(s).getShape());
                            assertArrayEquals(expected.get(s).toLongArray(), tb.indices().get(s).toLongArray(), "scale " + s);
                        }
                        assertArrayEquals(new long[] {1, 0, 0}, tb.labels().toLongArray());
                    }
                }
            }
        }
    }

    @Test
    void streamsShuffledBatchesThatResumeExactly(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokens.mvtc");
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenCacheWriter.write(file, TinyModels.randomImages(9, 16, 4), vae, m, 4, true, n -> {});
            try (TokenCache cache = TokenCache.open(file)) {
                TokenBatches run = new TokenBatches(cache, 2, DataPosition.start(11), true);
                run.next(m).close();
                TokenBatches resumed = new TokenBatches(cache, 2, run.position(), true);
                for (int i = 0; i < 6; i++) {
                    try (NDManager step = m.newSubManager()) {
                        TokenCache.TokenBatch a = run.next(step);
                        TokenCache.TokenBatch b = resumed.next(step);
                        assertEquals(a.position(), b.position());
                        assertArrayEquals(a.labels().toLongArray(), b.labels().toLongArray());
                        assertArrayEquals(a.indices().get(3).toLongArray(), b.indices().get(3).toLongArray());
                    }
                }
            }
        }
    }

    @Test
    void shardsOfThreeRanksTileTheWholeBatch(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokens.mvtc");
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenCacheWriter.write(file, TinyModels.randomImages(9, 16, 4), vae, m, 4, true, n -> {});
            try (TokenCache cache = TokenCache.open(file)) {
                TokenBatches whole = new TokenBatches(cache, 8, DataPosition.start(3), true);
                List<TokenBatches> ranks = new ArrayList<>();
                for (int r = 0; r < 3; r++) {
                    ranks.add(new TokenBatches(cache, 8, DataPosition.start(3), true, new BatchShard(r, 3)));
                }
                for (int i = 0; i < 4; i++) { // past an epoch: 9 samples hold one batch of 8
                    try (NDManager step = m.newSubManager()) {
                        TokenCache.TokenBatch all = whole.next(step);
                        List<Long> labels = new ArrayList<>();
                        List<Long> tokens = new ArrayList<>();
                        List<Integer> sizes = new ArrayList<>();
                        for (TokenBatches rank : ranks) {
                            TokenCache.TokenBatch part = rank.next(step);
                            assertEquals(all.position(), part.position());
                            sizes.add((int) part.labels().size());
                            for (long l : part.labels().toLongArray()) {
                                labels.add(l);
                            }
                            for (long t : part.indices().get(3).toLongArray()) {
                                tokens.add(t);
                            }
                        }
                        assertEquals(List.of(2, 3, 3), sizes);
                        assertEquals(boxed(all.labels().toLongArray()), labels);
                        assertEquals(boxed(all.indices().get(3).toLongArray()), tokens, "same samples, same flips");
                    }
                }
                assertThrows(IllegalArgumentException.class,
                        () -> new TokenBatches(cache, 2, DataPosition.start(3), true, new BatchShard(0, 3)));
            }
        }
    }

    private static List<Long> boxed(long[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }

    @Test
    void rejectsTruncatedAndForeignFiles(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokens.mvtc");
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenCacheWriter.write(file, TinyModels.randomImages(2, 16, 4), vae, m, 2, false, n -> {});
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 1);
        }
        IOException e = assertThrows(IOException.class, () -> TokenCache.open(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("truncated"), e.getMessage());
        Files.writeString(file, "definitely not tokens");
        e = assertThrows(IOException.class, () -> TokenCache.open(file));
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
    }

    private static NDArray stack(NDManager m, ImageDataset images, int[] pick, boolean flipped) {
        int s = images.imageSize();
        float[] px = new float[pick.length * 3 * s * s];
        for (int i = 0; i < pick.length; i++) {
            float[] one = images.sample(pick[i], flipped ? Augment.CENTRE_FLIPPED : Augment.CENTRE).pixels();
            System.arraycopy(one, 0, px, i * one.length, one.length);
        }
        return m.create(px, new Shape(pick.length, 3, s, s));
    }
}
