package ai.mvar.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {
    @Test
    void diagonalGaussiansHaveTheClosedForm() {
        double[] mu1 = {0, 1, 2};
        double[] mu2 = {1, 1, 0};
        double[] var1 = {1, 4, 9};
        double[] var2 = {4, 4, 1};
        double expected = 0;
        for (int i = 0; i < 3; i++) {
            expected += Math.pow(mu1[i] - mu2[i], 2) + Math.pow(Math.sqrt(var1[i]) - Math.sqrt(var2[i]), 2);
        }
        assertEquals(expected, FrechetDistance.between(stats(mu1, var1), stats(mu2, var2)), 1e-9);
    }

    @Test
    void rotatedCopiesAreAtZeroAndEigenvaluesAreExact() {
        SplittableRandom r = new SplittableRandom(4);
        int d = 12;
        double[][] a = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                a[i][j] = a[j][i] = r.nextDouble() - 0.5;
            }
        }
        double[][] spd = FrechetDistance.multiply(a, a); // symmetric positive semi-definite
        double[] mu = new double[d];
        FrechetDistance.Statistics s = new FrechetDistance.Statistics(mu, spd, 100);
        assertEquals(0, FrechetDistance.between(s, s), 1e-9);
        double[][] root = SymmetricEigen.apply(spd, Math::sqrt);
        double[][] back = FrechetDistance.multiply(root, root);
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                assertEquals(spd[i][j], back[i][j], 1e-10);
            }
        }
    }

    @Test
    void statisticsOfRows() {
        float[] rows = {1, 2, 3, 6}; // two rows of width 2
        FrechetDistance.Statistics s = FrechetDistance.Statistics.of(rows, 2);
        assertEquals(2, s.mean()[0], 1e-12);
        assertEquals(4, s.mean()[1], 1e-12);
        assertEquals(2, s.covariance()[0][0], 1e-12); // ((1-2)^2 + (3-2)^2) / 1
        assertEquals(4, s.covariance()[0][1], 1e-12);
        assertEquals(8, s.covariance()[1][1], 1e-12);
    }

    private static FrechetDistance.Statistics stats(double[] mu, double[] var) {
        double[][] cov = new double[mu.length][mu.length];
        for (int i = 0; i < mu.length; i++) {
            cov[i][i] = var[i];
        }
        return new FrechetDistance.Statistics(mu, cov, 10);
    }
}
