package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code F.interpolate} for {@code [..., H, W]} maps, exactly as PyTorch computes it. Both modes
 * are separable linear maps, so a resize is two small matrix products: {@code R_h · x · R_wᵀ}.
 *
 * <ul>
 *   <li>{@link Mode#BICUBIC}: cubic convolution with a = -0.75, {@code align_corners=False}, source
 *       indices clamped at the border, no antialiasing (DJL's own {@code interpolation()} turns
 *       antialiasing on, which changes the weights).
 *   <li>{@link Mode#AREA}: adaptive average pooling, cell i averages source cells {@code
 *       [floor(i*in/out), ceil((i+1)*in/out))}.
 * </ul>
 */
public final class Interpolation {
    private static final double A = -0.75;
    private static final Map<String, float[]> MATRICES = new ConcurrentHashMap<>();

    /** The resampling rule. */
    public enum Mode {
        BICUBIC,
        AREA
    }

    private Interpolation() {}

    /** Resizes the last two axes of {@code x} to {@code h x w}; the result lives in x's manager. */
    public static NDArray resize(NDArray x, Mode mode, int h, int w) {
        Shape s = x.getShape();
        int rank = s.dimension();
        int inH = (int) s.get(rank - 2);
        int inW = (int) s.get(rank - 1);
        if (inH == h && inW == w) {
            return x.duplicate();
        }
        NDArray rwT = transposedMatrix(x, mode, inW, w); // [inW, w]
        NDArray rhT = transposedMatrix(x, mode, inH, h); // [inH, h]
        NDArray cols = x.matMul(rwT); // [..., inH, w]
        return cols.swapAxes(rank - 2, rank - 1).matMul(rhT).swapAxes(rank - 2, rank - 1);
    }

    /**
     * The transposed resampling matrix {@code [in, out]} on x's device and in its type: a view, in
     * x's manager, of a {@link DeviceConstants} entry made once.
     */
    private static NDArray transposedMatrix(NDArray like, Mode mode, int in, int out) {
        NDArray r = DeviceConstants.get(like, "interpolation " + mode + " " + in + "->" + out, new Shape(out, in),
                () -> weights(mode, in, out));
        NDArray t = r.transpose();
        t.attach(like.getManager());
        return t;
    }

    /** Row-major {@code [out, in]} weights; each row sums to 1. */
    public static float[] weights(Mode mode, int in, int out) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("cannot resize between sizes " + in + " and " + out);
        }
        return MATRICES.computeIfAbsent(
                mode + ":" + in + ":" + out,
                k -> mode == Mode.BICUBIC ? bicubic(in, out) : area(in, out));
    }

    private static float[] bicubic(int in, int out) {
        float[] m = new float[out * in];
        // PyTorch computes the scale and source coordinate in float.
        float scale = (float) in / out;
        for (int i = 0; i < out; i++) {
            float real = scale * (i + 0.5f) - 0.5f;
            int floor = (int) Math.floor(real);
            float t = real - floor;
            double[] coeff = {
                cubic2(t + 1.0), cubic1(t), cubic1(1.0 - t), cubic2(2.0 - t),
            };
            for (int j = 0; j < 4; j++) {
                int src = Math.min(Math.max(floor - 1 + j, 0), in - 1);
                m[i * in + src] += (float) coeff[j];
            }
        }
        return m;
    }

    private static double cubic1(double x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    private static double cubic2(double x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }

    private static float[] area(int in, int out) {
        float[] m = new float[out * in];
        for (int i = 0; i < out; i++) {
            int start = (int) Math.floor((double) i * in / out);
            int end = (int) Math.ceil((double) (i + 1) * in / out);
            for (int j = start; j < end; j++) {
                m[i * in + j] = 1f / (end - start);
            }
        }
        return m;
    }
}
