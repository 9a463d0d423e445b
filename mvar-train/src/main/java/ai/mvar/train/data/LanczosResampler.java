package ai.mvar.train.data;

/**
 * Resizes 8-bit planes with a Lanczos-3 filter the way Pillow's {@code Image.resize(LANCZOS)}
 * does: the filter support widens by the downscaling factor (antialiasing), weights are
 * normalised per output pixel, the horizontal pass runs first and each pass rounds and clamps to
 * 8 bits. Pillow uses fixed-point weights, so values may differ from it by one level.
 */
final class LanczosResampler {
    private static final double SUPPORT = 3.0;

    private LanczosResampler() {}

    /** Resizes a row-major {@code h x w} plane of values 0..255 to {@code outH x outW}. */
    static int[] resize(int[] plane, int w, int h, int outW, int outH) {
        int[] horizontal = w == outW ? plane : pass(plane, w, h, outW, true);
        return h == outH ? horizontal : pass(horizontal, outW, h, outH, false);
    }

    private static int[] pass(int[] in, int w, int h, int out, boolean alongRows) {
        int inSize = alongRows ? w : h;
        Kernel k = kernel(inSize, out);
        int outW = alongRows ? out : w;
        int outH = alongRows ? h : out;
        int[] result = new int[outW * outH];
        for (int y = 0; y < outH; y++) {
            for (int x = 0; x < outW; x++) {
                int o = alongRows ? x : y;
                double sum = 0;
                for (int j = 0; j < k.count[o]; j++) {
                    int src = k.first[o] + j;
                    int value = alongRows ? in[y * w + src] : in[src * w + x];
                    sum += value * k.weights[o][j];
                }
                result[y * outW + x] = (int) Math.max(0, Math.min(255, Math.round(sum)));
            }
        }
        return result;
    }

    private static Kernel kernel(int in, int out) {
        double scale = (double) in / out;
        double filterScale = Math.max(scale, 1.0);
        double support = SUPPORT * filterScale;
        Kernel k = new Kernel(out);
        for (int o = 0; o < out; o++) {
            double centre = (o + 0.5) * scale;
            int first = Math.max(0, (int) (centre - support + 0.5));
            int last = Math.min(in, (int) (centre + support + 0.5));
            double[] w = new double[last - first];
            double total = 0;
            for (int j = 0; j < w.length; j++) {
                w[j] = lanczos((first + j - centre + 0.5) / filterScale);
                total += w[j];
            }
            for (int j = 0; j < w.length; j++) {
                w[j] = total == 0 ? 0 : w[j] / total;
            }
            k.first[o] = first;
            k.count[o] = w.length;
            k.weights[o] = w;
        }
        return k;
    }

    private static double lanczos(double x) {
        if (x <= -SUPPORT || x >= SUPPORT) {
            return 0;
        }
        return sinc(x) * sinc(x / SUPPORT);
    }

    private static double sinc(double x) {
        if (x == 0) {
            return 1;
        }
        double px = Math.PI * x;
        return Math.sin(px) / px;
    }

    private static final class Kernel {
        final int[] first;
        final int[] count;
        final double[][] weights;

        Kernel(int out) {
            first = new int[out];
            count = new int[out];
            weights = new double[out][];
        }
    }
}
