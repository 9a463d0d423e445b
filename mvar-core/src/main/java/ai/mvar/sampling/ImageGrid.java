package ai.mvar.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.mvar.io.AtomicFile;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** Turns image tensors {@code [B, 3, H, W]} in [0, 1] into PNG files and a labelled grid. */
public final class ImageGrid {
    private static final int PAD = 4;

    private ImageGrid() {}

    /** One RGB image per batch row; values are clamped to [0, 1] and rounded to 8 bits. */
    public static List<BufferedImage> toImages(NDArray images) {
        long[] s = images.getShape().getShape();
        if (s.length != 4 || s[1] != 3) {
            throw new IllegalArgumentException("images must be [B, 3, H, W], got " + images.getShape());
        }
        int b = (int) s[0];
        int h = (int) s[2];
        int w = (int) s[3];
        float[] v = images.toType(DataType.FLOAT32, false).toFloatArray();
        List<BufferedImage> out = new ArrayList<>(b);
        int plane = h * w;
        for (int n = 0; n < b; n++) {
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            int base = n * 3 * plane;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int i = y * w + x;
                    int r = toByte(v[base + i]);
                    int g = toByte(v[base + plane + i]);
                    int bl = toByte(v[base + 2 * plane + i]);
                    img.setRGB(x, y, (r << 16) | (g << 8) | bl);
                }
            }
            out.add(img);
        }
        return out;
    }

    /**
     * A grid of tiles, {@code columns} wide, each with its caption below (no captions when {@code
     * captions} is empty).
     */
    public static BufferedImage grid(List<BufferedImage> tiles, List<String> captions, int columns) {
        if (tiles.isEmpty()) {
            throw new IllegalArgumentException("no images to put in a grid");
        }
        int cols = Math.max(1, Math.min(columns, tiles.size()));
        int rows = (tiles.size() + cols - 1) / cols;
        int tw = tiles.get(0).getWidth();
        int th = tiles.get(0).getHeight();
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(9, Math.min(14, tw / 6)));
        int captionHeight = captions.isEmpty() ? 0 : font.getSize() + 4;
        BufferedImage grid = new BufferedImage(cols * (tw + PAD) + PAD, rows * (th + captionHeight + PAD) + PAD,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(font);
            g.setColor(Color.BLACK);
            FontMetrics fm = g.getFontMetrics();
            for (int i = 0; i < tiles.size(); i++) {
                int x = PAD + (i % cols) * (tw + PAD);
                int y = PAD + (i / cols) * (th + captionHeight + PAD);
                g.drawImage(tiles.get(i), x, y, null);
                if (!captions.isEmpty()) {
                    String text = fit(captions.get(i), fm, tw);
                    g.drawString(text, x + (tw - fm.stringWidth(text)) / 2, y + th + fm.getAscent() + 1);
                }
            }
        } finally {
            g.dispose();
        }
        return grid;
    }

    /**
     * Each image enlarged {@code factor} times with nearest-neighbour sampling, so small images (28 px
     * Fashion-MNIST) stay sharp and leave room for a readable caption in a grid.
     */
    public static List<BufferedImage> enlarge(List<BufferedImage> images, int factor) {
        if (factor < 1) {
            throw new IllegalArgumentException("enlargement factor must be >= 1, got " + factor);
        }
        if (factor == 1) {
            return images;
        }
        List<BufferedImage> out = new ArrayList<>(images.size());
        for (BufferedImage img : images) {
            BufferedImage big = new BufferedImage(img.getWidth() * factor, img.getHeight() * factor, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < big.getHeight(); y++) {
                for (int x = 0; x < big.getWidth(); x++) {
                    big.setRGB(x, y, img.getRGB(x / factor, y / factor));
                }
            }
            out.add(big);
        }
        return out;
    }

    /**
     * Writes a PNG atomically ({@link AtomicFile}): a partly written file never appears under the
     * final name. Parent folders are created.
     */
    public static void writePng(BufferedImage image, Path file) throws IOException {
        AtomicFile.writeStream(file, out -> {
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException("no PNG writer available for " + file);
            }
        });
    }

    private static String fit(String text, FontMetrics fm, int width) {
        String t = text;
        while (t.length() > 1 && fm.stringWidth(t) > width) {
            t = t.substring(0, t.length() - 1);
        }
        return t.equals(text) ? t : t.substring(0, Math.max(1, t.length() - 1)) + "…";
    }

    private static int toByte(float v) {
        float c = Math.max(0f, Math.min(1f, v));
        return Math.round(c * 255f);
    }
}
