package ai.mvar.eval;

/**
 * Improved precision and recall of a generator (Kynkäänniemi et al., NeurIPS 2019) in a feature
 * space. Each set of feature rows stands for a manifold: the union of balls around its rows, each
 * ball reaching to the row's k-th nearest neighbour in the same set. Precision is the share of
 * generated rows inside the real manifold (are the samples realistic?), recall the share of real
 * rows inside the generated manifold (do the samples cover the variety of real images?).
 *
 * <p>Both sets should have the same size: the balls grow as a set thins out. Distances are
 * Euclidean, computed exactly (quadratic in the set size; a thousand rows take a fraction of a
 * second).
 */
public final class PrecisionRecall {
    /** The paper's default neighbourhood size. */
    public static final int K = 3;

    private PrecisionRecall() {}

    public record Result(double precision, double recall) {}

    /**
     * @param real real feature rows, {@code n x d} row-major
     * @param generated generated feature rows, {@code m x d}
     * @param k the neighbour that sets each ball's radius; both sets need more than k rows
     */
    public static Result of(float[] real, float[] generated, int d, int k) {
        return new Result(coverage(generated, real, d, k), coverage(real, generated, d, k));
    }

    /** The share of {@code points} inside the k-NN manifold of {@code manifold}. */
    static double coverage(float[] points, float[] manifold, int d, int k) {
        double[] radius2 = kthNeighbourDistances2(manifold, d, k);
        int n = rows(points, d);
        int m = rows(manifold, d);
        int inside = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                if (distance2(points, i, manifold, j, d) <= radius2[j]) {
                    inside++;
                    break;
                }
            }
        }
        return (double) inside / n;
    }

    /** The squared distance of each row to its k-th nearest other row of the same set. */
    static double[] kthNeighbourDistances2(float[] x, int d, int k) {
        int n = rows(x, d);
        if (k < 1 || n <= k) {
            throw new IllegalArgumentException("the k-NN manifold needs more than k = " + k + " rows, got " + n);
        }
        double[] out = new double[n];
        double[] nearest = new double[k]; // ascending, the k smallest so far
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(nearest, Double.POSITIVE_INFINITY);
            for (int j = 0; j < n; j++) {
                if (j == i) {
                    continue;
                }
                double dist = distance2(x, i, x, j, d);
                if (dist < nearest[k - 1]) {
                    int at = k - 1;
                    while (at > 0 && nearest[at - 1] > dist) {
                        nearest[at] = nearest[at - 1];
                        at--;
                    }
                    nearest[at] = dist;
                }
            }
            out[i] = nearest[k - 1];
        }
        return out;
    }

    private static double distance2(float[] a, int i, float[] b, int j, int d) {
        double sum = 0;
        int ai = i * d;
        int bj = j * d;
        for (int c = 0; c < d; c++) {
            double diff = a[ai + c] - b[bj + c];
            sum += diff * diff;
        }
        return sum;
    }

    private static int rows(float[] x, int d) {
        if (d < 1 || x.length % d != 0) {
            throw new IllegalArgumentException(x.length + " values are not rows of " + d + " features");
        }
        return x.length / d;
    }
}
