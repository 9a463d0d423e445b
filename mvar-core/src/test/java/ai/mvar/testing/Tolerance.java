package ai.mvar.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** The parity rules of the fixtures: indices exact, everything else relative L2 error. */
public final class Tolerance {
    public static final double PARITY = 1e-4;

    private Tolerance() {}

    /** {@code ||actual - expected|| / ||expected||}, computed in double precision. */
    public static double relativeError(NDArray actual, NDArray expected) {
        assertEquals(expected.getShape(), actual.getShape(), "shape");
        double[] a = actual.toType(DataType.FLOAT64, false).toDoubleArray();
        double[] e = expected.toType(DataType.FLOAT64, false).toDoubleArray();
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < a.length; i++) {
            diff += (a[i] - e[i]) * (a[i] - e[i]);
            norm += e[i] * e[i];
        }
        return Math.sqrt(diff) / Math.sqrt(norm);
    }

    /** {@code ||actual - expected|| / ||expected||} of two Java arrays (0 when both are zero). */
    public static double relativeError(float[] actual, float[] expected) {
        assertEquals(expected.length, actual.length, "length");
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < actual.length; i++) {
            diff += (actual[i] - expected[i]) * (double) (actual[i] - expected[i]);
            norm += (double) expected[i] * expected[i];
        }
        return Math.sqrt(diff / Math.max(norm, 1e-30));
    }

    public static void assertClose(NDArray actual, NDArray expected, double tolerance, String what) {
        double err = relativeError(actual, expected);
        System.out.printf("parity %-40s relative error %.3e (tolerance %.0e)%n", what, err, tolerance);
        assertTrue(err <= tolerance, what + ": relative error " + err + " > " + tolerance);
    }

    public static void assertParity(NDArray actual, NDArray expected, String what) {
        assertClose(actual, expected, PARITY, what);
    }

    public static void assertSameIndices(NDArray actual, NDArray expected, String what) {
        assertEquals(expected.getShape(), actual.getShape(), what + " shape");
        assertArrayEquals(expected.toType(DataType.INT64, false).toLongArray(),
                actual.toType(DataType.INT64, false).toLongArray(), what);
    }
}
