package ai.mvar.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderDatasetTest {

    @Test
    void sortsClassFoldersIntoLabelsAndSkipsUnreadableFiles(@TempDir Path root) throws IOException {
        writeImage(root.resolve("zebra/a.png"), "png", 40, 30, Color.WHITE);
        writeImage(root.resolve("ant/b.jpg"), "jpg", 30, 40, Color.BLACK);
        Files.writeString(root.resolve("ant/broken.jpg"), "not a jpeg");
        Files.writeString(root.resolve("ant/notes.txt"), "ignored");

        ImageFolderDataset ds = ImageFolderDataset.scan(root, 16);
        assertEquals(List.of("ant", "zebra"), ds.classNames());
        assertEquals(3, ds.size());
        assertEquals(0, ds.label(0));
        assertEquals(1, ds.label(2));

        ImageDataset.Sample black = ds.sample(0, Augment.CENTRE);
        assertEquals(0, black.label());
        assertEquals(-1f, black.pixels()[0], 0.02f);
        ImageDataset.Sample replacement = ds.sample(1, Augment.CENTRE);
        assertEquals(1, ds.unreadableCount());
        assertEquals(1, replacement.label(), "the next readable image stands in, with its own label");
        assertEquals(1f, replacement.pixels()[0], 1e-6f);
        ds.sample(1, Augment.CENTRE);
        assertEquals(1, ds.unreadableCount(), "each file is counted once");
    }

    @Test
    void refusesAFolderWithoutImages(@TempDir Path root) throws IOException {
        Files.createDirectories(root.resolve("empty"));
        assertThrows(IOException.class, () -> ImageFolderDataset.scan(root, 16));
    }

    @Test
    void resizesTheShorterSideCropsAndMirrors(@TempDir Path root) throws IOException {
        // Left half red, right half blue: a centre crop shows both, a mirror swaps them.
        BufferedImage img = new BufferedImage(64, 36, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 36; y++) {
            for (int x = 0; x < 64; x++) {
                img.setRGB(x, y, x < 32 ? 0xff0000 : 0x0000ff);
            }
        }
        ReferenceTransform t = new ReferenceTransform(16);
        assertEquals(18, t.midSize());
        float[] px = t.apply(img, Augment.CENTRE);
        int s = 16;
        assertEquals(1f, px[0], 1e-6f, "red at the left edge");
        assertEquals(-1f, px[2 * s * s], 1e-6f, "no blue at the left edge");
        assertEquals(1f, px[2 * s * s + s - 1], 1e-6f, "blue at the right edge");
        float[] mirrored = t.apply(img, Augment.CENTRE_FLIPPED);
        assertEquals(-1f, mirrored[0], 1e-6f);
        assertEquals(1f, mirrored[2 * s * s], 1e-6f);
        // The resized image is 32x18 (shorter side 18): a crop at the far left shows only red.
        float[] leftmost = t.apply(img, new Augment(0, 0, false));
        // (Lanczos rings within three pixels of the colour edge at x = 16, so look at x = 11.)
        assertEquals(1f, leftmost[11], 1e-6f);
        assertEquals(-1f, leftmost[2 * s * s + 11], 1e-6f);
    }

    @Test
    void lanczosKeepsFlatImagesFlat() {
        int[] flat = new int[20 * 10];
        java.util.Arrays.fill(flat, 77);
        for (int v : LanczosResampler.resize(flat, 20, 10, 7, 13)) {
            assertEquals(77, v);
        }
    }

    private static void writeImage(Path file, String format, int w, int h, Color colour) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        var g = img.createGraphics();
        g.setColor(colour);
        g.fillRect(0, 0, w, h);
        g.dispose();
        ImageIO.write(img, format, file.toFile());
    }
}
