package ai.mvar.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PrecisionRecallTest {
    @Test
    void kthNeighbourRadiiOnALine() {
        float[] x = {0, 1, 3, 7}; // four rows of one feature
        assertArrayEquals(new double[] {1, 1, 4, 16}, PrecisionRecall.kthNeighbourDistances2(x, 1, 1), 0);
        assertArrayEquals(new double[] {9, 4, 9, 36}, PrecisionRecall.kthNeighbourDistances2(x, 1, 2), 0);
    }

    @Test
    void coverageCountsPointsInsideAnyBall() {
        float[] manifold = {0, 1, 3, 7}; // k = 1 balls: [-1, 1], [0, 2], [1, 5], [3, 11]
        float[] points = {-1, 5.5f, 11, 12, -1.5f};
        assertEquals(3.0 / 5, PrecisionRecall.coverage(points, manifold, 1, 1), 1e-12);
    }

    @Test
    void aSetAgainstItselfHasPerfectPrecisionAndRecall() {
        float[] a = gaussian(300, 8, 0, 1, 1);
        PrecisionRecall.Result r = PrecisionRecall.of(a, a.clone(), 8, PrecisionRecall.K);
        assertEquals(1, r.precision(), 0);
        assertEquals(1, r.recall(), 0);
    }

    @Test
    void aCollapsedGeneratorIsPreciseButRecallsLittle() {
        float[] real = gaussian(500, 4, 0, 1, 2);
        float[] collapsed = gaussian(500, 4, 0, 0.05, 3); // every sample near the mode
        PrecisionRecall.Result r = PrecisionRecall.of(real, collapsed, 4, PrecisionRecall.K);
        assertTrue(r.precision() > 0.95, "precision " + r.precision());
        assertTrue(r.recall() < 0.2, "recall " + r.recall());

        float[] other = gaussian(500, 4, 0, 1, 4); // a second draw of the same distribution
        PrecisionRecall.Result same = PrecisionRecall.of(real, other, 4, PrecisionRecall.K);
        assertTrue(same.precision() > 0.6 && same.recall() > 0.6, same.toString());

        float[] far = gaussian(500, 4, 50, 1, 5);
        PrecisionRecall.Result none = PrecisionRecall.of(real, far, 4, PrecisionRecall.K);
        assertEquals(0, none.precision(), 0);
        assertEquals(0, none.recall(), 0);
    }

    @Test
    void tooFewRowsForTheNeighbourhoodAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PrecisionRecall.of(new float[] {0, 1, 2}, new float[] {0, 1, 2, 3}, 1, 3));
        assertTrue(e.getMessage().contains("k = 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PrecisionRecall.of(new float[5], new float[6], 2, 1));
    }

    private static float[] gaussian(int n, int d, double mean, double std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) {
            double u1 = r.nextDouble();
            double u2 = r.nextDouble();
            x[i] = (float) (mean + std * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        return x;
    }
}
