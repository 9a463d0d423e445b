package ai.mvar.eval;

import java.util.function.DoubleUnaryOperator;

/** Eigen-decomposition of a real symmetric matrix by cyclic Jacobi rotations (exact to rounding). */
final class SymmetricEigen {
    private static final int MAX_SWEEPS = 100;

    private SymmetricEigen() {}

    /** The eigenvalues. */
    static double[] values(double[][] a) {
        return decompose(a).values;
    }

    /** {@code V f(L) V^T} for {@code a = V L V^T}; eigenvalues below 0 (rounding) are clamped to 0 first. */
    static double[][] apply(double[][] a, DoubleUnaryOperator f) {
        Decomposition e = decompose(a);
        int n = a.length;
        double[][] out = new double[n][n];
        for (int k = 0; k < n; k++) {
            double fk = f.applyAsDouble(Math.max(e.values[k], 0));
            for (int i = 0; i < n; i++) {
                double vik = e.vectors[i][k] * fk;
                for (int j = 0; j < n; j++) {
                    out[i][j] += vik * e.vectors[j][k];
                }
            }
        }
        return out;
    }

    private record Decomposition(double[] values, double[][] vectors) {}

    private static Decomposition decompose(double[][] input) {
        int n = input.length;
        double[][] a = new double[n][];
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) {
            a[i] = input[i].clone();
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0;
            double scale = 0;
            for (int i = 0; i < n; i++) {
                scale += a[i][i] * a[i][i];
                for (int j = i + 1; j < n; j++) {
                    off += a[i][j] * a[i][j];
                }
            }
            if (off <= 1e-30 * Math.max(scale, 1e-300)) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (a[p][q] == 0) {
                        continue;
                    }
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) { // A = A J
                        double akp = a[k][p];
                        double akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) { // A = J^T A
                        double apk = a[p][k];
                        double aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p];
                        double vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = a[i][i];
        }
        return new Decomposition(values, v);
    }
}
