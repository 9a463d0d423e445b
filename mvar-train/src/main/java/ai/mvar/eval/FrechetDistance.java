package ai.mvar.eval;

/**
 * The Fréchet distance between Gaussians fitted to two feature sets (the FID formula, here on the
 * project's own classifier features): {@code |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))}. The
 * trace of the matrix square root is taken as the sum of square roots of the eigenvalues of the
 * symmetric {@code S1^(1/2) S2 S1^(1/2)}, which has the same spectrum as {@code S1 S2}.
 */
public final class FrechetDistance {
    private FrechetDistance() {}

    /** Mean and covariance (divided by n - 1) of {@code n} feature rows of width {@code d}. */
    public record Statistics(double[] mean, double[][] covariance, int count) {
        public static Statistics of(float[] rows, int d) {
            int n = rows.length / d;
            if (n < 2 || rows.length % d != 0) {
                throw new IllegalArgumentException("need at least two rows of " + d + " features, got " + rows.length + " values");
            }
            double[] mu = new double[d];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) {
                    mu[j] += rows[i * d + j];
                }
            }
            for (int j = 0; j < d; j++) {
                mu[j] /= n;
            }
            double[][] cov = new double[d][d];
            double[] c = new double[d];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) {
                    c[j] = rows[i * d + j] - mu[j];
                }
                for (int a = 0; a < d; a++) {
                    for (int b = a; b < d; b++) {
                        cov[a][b] += c[a] * c[b];
                    }
                }
            }
            for (int a = 0; a < d; a++) {
                for (int b = a; b < d; b++) {
                    cov[a][b] /= n - 1;
                    cov[b][a] = cov[a][b];
                }
            }
            return new Statistics(mu, cov, n);
        }
    }

    public static double between(Statistics x, Statistics y) {
        int d = x.mean().length;
        double meanTerm = 0;
        for (int j = 0; j < d; j++) {
            double diff = x.mean()[j] - y.mean()[j];
            meanTerm += diff * diff;
        }
        double[][] root = SymmetricEigen.apply(x.covariance(), Math::sqrt);
        double[][] inner = multiply(multiply(root, y.covariance()), root);
        double traceRoot = 0;
        for (double lambda : SymmetricEigen.values(inner)) {
            traceRoot += Math.sqrt(Math.max(lambda, 0));
        }
        return meanTerm + trace(x.covariance()) + trace(y.covariance()) - 2 * traceRoot;
    }

    private static double trace(double[][] a) {
        double t = 0;
        for (int i = 0; i < a.length; i++) {
            t += a[i][i];
        }
        return t;
    }

    static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        double[][] c = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                double aik = a[i][k];
                for (int j = 0; j < n; j++) {
                    c[i][j] += aik * b[k][j];
                }
            }
        }
        return c;
    }
}
