package ai.mvar.train.data;

import java.awt.image.BufferedImage;

/**
 * VAR's image pipeline ({@code utils/data.py}): resize the shorter side to {@code round(1.125 *
 * S)} with Lanczos, optionally mirror, crop {@code S x S} (centred, or where the {@link Augment}
 * says), and map 8-bit values to [-1, 1] by {@code 2 * v / 255 - 1}.
 */
public final class ReferenceTransform {
    /** The reference's {@code mid_reso} factor. */
    public static final double MID_RESOLUTION = 1.125;

    private final int finalSize;
    private final int midSize;

    public ReferenceTransform(int finalSize) {
        if (finalSize <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + finalSize);
        }
        this.finalSize = finalSize;
        this.midSize = (int) Math.round(MID_RESOLUTION * finalSize);
    }

    public int finalSize() {
        return finalSize;
    }

    /** Side the shorter edge is resized to before cropping. */
    public int midSize() {
        return midSize;
    }

    /** {@code [3, S, S]} pixels in [-1, 1]. */
    public float[] apply(BufferedImage image, Augment augment) {
        int w = image.getWidth();
        int h = image.getHeight();
        // torchvision's Resize(int): shorter edge to mid, longer edge truncated proportionally.
        int outW = w <= h ? midSize : (int) ((long) midSize * w / h);
        int outH = w <= h ? (int) ((long) midSize * h / w) : midSize;
        int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
        float[] out = new float[3 * finalSize * finalSize];
        int left = augment.offset(augment.cropX(), outW - finalSize);
        int top = augment.offset(augment.cropY(), outH - finalSize);
        for (int c = 0; c < 3; c++) {
            int shift = 16 - 8 * c;
            int[] plane = new int[w * h];
            for (int i = 0; i < plane.length; i++) {
                plane[i] = (rgb[i] >> shift) & 0xff;
            }
            int[] resized = LanczosResampler.resize(plane, w, h, outW, outH);
            writeCrop(resized, outW, left, top, augment.flip(), out, c);
        }
        return out;
    }

    private void writeCrop(int[] plane, int planeW, int left, int top, boolean flip, float[] out, int channel) {
        int base = channel * finalSize * finalSize;
        for (int y = 0; y < finalSize; y++) {
            for (int x = 0; x < finalSize; x++) {
                // The reference mirrors before cropping: crop the mirrored plane.
                int sx = flip ? planeW - 1 - (left + x) : left + x;
                out[base + y * finalSize + x] = plane[(top + y) * planeW + sx] * (2f / 255f) - 1f;
            }
        }
    }
}
