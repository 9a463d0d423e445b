package ai.mvar.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.testing.TestData;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    private static FashionMnist test32;

    @BeforeAll
    static void load() throws IOException {
        TestData.assume(FashionMnist.installed(), FashionMnist.DESCRIPTION);
        test32 = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST, 32, FashionMnist.Fit.PAD);
    }

    @Test
    void readsTheRealTestSplitWithAllTenClasses() {
        assertEquals(10_000, test32.size());
        int[] perClass = new int[10];
        for (int i = 0; i < test32.size(); i++) {
            perClass[test32.label(i)]++;
        }
        for (int c = 0; c < 10; c++) {
            assertEquals(1000, perClass[c], FashionMnist.CLASS_NAMES.get(c));
        }
        assertEquals("Ankle boot", test32.classNames().get(9));
    }

    @Test
    void padsWithTheBlackBackgroundAndReplicatesGrey() {
        float[] px = test32.sample(0, Augment.CENTRE).pixels();
        assertEquals(3 * 32 * 32, px.length);
        for (int x = 0; x < 32; x++) {
            assertEquals(-1f, px[x], "top border row is background");
            assertEquals(-1f, px[31 * 32 + x], "bottom border row is background");
        }
        float min = 1;
        float max = -1;
        for (int i = 0; i < 32 * 32; i++) {
            assertEquals(px[i], px[1024 + i]);
            assertEquals(px[i], px[2048 + i]);
            min = Math.min(min, px[i]);
            max = Math.max(max, px[i]);
        }
        assertEquals(-1f, min);
        assertTrue(max > 0.5f && max <= 1f, "an ankle boot has bright pixels: " + max);
    }

    @Test
    void mirrorsTheFrame() {
        float[] plain = test32.sample(3, Augment.CENTRE).pixels();
        float[] flipped = test32.sample(3, Augment.CENTRE_FLIPPED).pixels();
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                assertEquals(plain[y * 32 + x], flipped[y * 32 + 31 - x], 1e-6f);
            }
        }
    }

    @Test
    void resizesToSmallerImages() throws IOException {
        FashionMnist small = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST, 16, FashionMnist.Fit.RESIZE);
        float[] px = small.sample(0, Augment.CENTRE).pixels();
        assertEquals(3 * 16 * 16, px.length);
        for (float v : px) {
            assertTrue(v >= -1f && v <= 1f);
        }
        assertThrows(IllegalArgumentException.class,
                () -> FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST, 16, FashionMnist.Fit.PAD));
    }

    @Test
    void aMissingFileIsNamedWithThePackageThatInstallsIt(@TempDir Path dir) throws IOException {
        assertEquals(false, FashionMnist.installed(dir));
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST, 28, FashionMnist.Fit.PAD));
        assertEquals(dir.resolve("t10k-images-idx3-ubyte.gz").toString(), e.getFile());
        assertTrue(e.getReason().contains("dataset-fashion-mnist"), e.getReason());
    }

    @Test
    void rejectsAFileWithTheWrongMagicNumberNamingIt(@TempDir Path dir) throws IOException {
        writeIdx(dir.resolve("t10k-images-idx3-ubyte.gz"), 0x00000801, new int[] {2}, 2);
        writeIdx(dir.resolve("t10k-labels-idx1-ubyte.gz"), 0x00000801, new int[] {2}, 2);
        IOException e = assertThrows(IOException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST, 32, FashionMnist.Fit.PAD));
        assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte.gz") && e.getMessage().contains("magic"), e.getMessage());
    }

    @Test
    void rejectsTruncatedDataAndMismatchedCounts(@TempDir Path dir) throws IOException {
        writeIdx(dir.resolve("t10k-images-idx3-ubyte.gz"), 0x00000803, new int[] {3, 28, 28}, 2 * 784);
        writeIdx(dir.resolve("t10k-labels-idx1-ubyte.gz"), 0x00000801, new int[] {3}, 3);
        IOException e = assertThrows(IOException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST, 32, FashionMnist.Fit.PAD));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        writeIdx(dir.resolve("t10k-images-idx3-ubyte.gz"), 0x00000803, new int[] {3, 28, 28}, 3 * 784);
        writeIdx(dir.resolve("t10k-labels-idx1-ubyte.gz"), 0x00000801, new int[] {2}, 2);
        e = assertThrows(IOException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST, 32, FashionMnist.Fit.PAD));
        assertTrue(e.getMessage().contains("2 labels for the 3 images"), e.getMessage());
    }

    private static void writeIdx(Path file, int magic, int[] dims, int dataBytes) throws IOException {
        try (OutputStream raw = Files.newOutputStream(file);
                DataOutputStream out = new DataOutputStream(new GZIPOutputStream(raw))) {
            out.writeInt(magic);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(new byte[dataBytes]);
        }
    }
}
