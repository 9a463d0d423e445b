package ai.mvar.cuda;

/**
 * Plain double-precision neighbourhood attention, straight from the window rule, independent of
 * the kernels: arrays are [BH, N, D] row-major, N = side * side.
 */
final class NaReference {
    record Forward(double[] out, double[] lse) {}

    record Gradients(double[] dq, double[] dk, double[] dv) {}

    private final int bh;
    private final int side;
    private final int ks;
    private final int d;
    private final double scale;

    NaReference(int bh, int side, int ks, int d, double scale) {
        this.bh = bh;
        this.side = side;
        this.ks = ks;
        this.d = d;
        this.scale = scale;
    }

    /** Keys of query token t, in window order. */
    int[] window(int t) {
        int ke = Math.min(ks, side);
        int r0 = NaGeometry.windowStart(t / side, side, ks);
        int c0 = NaGeometry.windowStart(t % side, side, ks);
        int[] keys = new int[ke * ke];
        for (int a = 0; a < ke; a++) {
            for (int b = 0; b < ke; b++) {
                keys[a * ke + b] = (r0 + a) * side + c0 + b;
            }
        }
        return keys;
    }

    private double dot(double[] x, int xo, double[] y, int yo) {
        double s = 0;
        for (int e = 0; e < d; e++) {
            s += x[xo + e] * y[yo + e];
        }
        return s;
    }

    /** Softmax weights of query t of slice s over its window. */
    private double[] weights(double[] q, double[] k, int s, int t, int[] keys, double[] lseOut) {
        int n = side * side;
        double[] w = new double[keys.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < keys.length; j++) {
            w[j] = scale * dot(q, (s * n + t) * d, k, (s * n + keys[j]) * d);
            max = Math.max(max, w[j]);
        }
        double sum = 0;
        for (int j = 0; j < w.length; j++) {
            sum += Math.exp(w[j] - max);
        }
        for (int j = 0; j < w.length; j++) {
            w[j] = Math.exp(w[j] - max) / sum;
        }
        lseOut[s * n + t] = max + Math.log(sum);
        return w;
    }

    Forward forward(double[] q, double[] k, double[] v) {
        int n = side * side;
        double[] out = new double[bh * n * d];
        double[] lse = new double[bh * n];
        for (int s = 0; s < bh; s++) {
            for (int t = 0; t < n; t++) {
                int[] keys = window(t);
                double[] w = weights(q, k, s, t, keys, lse);
                for (int j = 0; j < keys.length; j++) {
                    for (int e = 0; e < d; e++) {
                        out[(s * n + t) * d + e] += w[j] * v[(s * n + keys[j]) * d + e];
                    }
                }
            }
        }
        return new Forward(out, lse);
    }

    /** Gradients of {@code sum(dout * forward(q, k, v).out)}. */
    Gradients backward(double[] q, double[] k, double[] v, double[] dout) {
        int n = side * side;
        double[] dq = new double[q.length];
        double[] dk = new double[k.length];
        double[] dv = new double[v.length];
        double[] lse = new double[bh * n];
        for (int s = 0; s < bh; s++) {
            for (int t = 0; t < n; t++) {
                int[] keys = window(t);
                double[] w = weights(q, k, s, t, keys, lse);
                int qo = (s * n + t) * d;
                double[] dp = new double[keys.length];
                double delta = 0;
                for (int j = 0; j < keys.length; j++) {
                    dp[j] = dot(dout, qo, v, (s * n + keys[j]) * d);
                    delta += w[j] * dp[j];
                }
                for (int j = 0; j < keys.length; j++) {
                    int ko = (s * n + keys[j]) * d;
                    double ds = w[j] * (dp[j] - delta);
                    for (int e = 0; e < d; e++) {
                        dv[ko + e] += w[j] * dout[qo + e];
                        dq[qo + e] += scale * ds * k[ko + e];
                        dk[ko + e] += scale * ds * q[qo + e];
                    }
                }
            }
        }
        return new Gradients(dq, dk, dv);
    }

    static double relativeError(double[] actual, double[] expected) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < actual.length; i++) {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        return Math.sqrt(diff / norm);
    }
}
