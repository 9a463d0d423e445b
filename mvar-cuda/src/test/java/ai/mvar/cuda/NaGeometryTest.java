package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NaGeometryTest {

    /** The rule as written in the reference: clamp(i - k/2, 0, p - k), everything when p < k. */
    private static int referenceStart(int i, int p, int k) {
        if (p < k) {
            return 0;
        }
        return Math.max(0, Math.min(i - k / 2, p - k));
    }

    @Test
    void windowStartFollowsTheReferenceRule() {
        for (int p = 1; p <= 40; p++) {
            for (int k = 1; k <= 15; k += 2) {
                int ke = Math.min(k, p);
                for (int i = 0; i < p; i++) {
                    int s = NaGeometry.windowStart(i, p, k);
                    assertEquals(referenceStart(i, p, k), s, "p=" + p + " k=" + k + " i=" + i);
                    assertTrue(s >= 0 && s + ke <= p, "window inside the map");
                    assertTrue(s <= i && i < s + ke, "a query sees itself");
                }
            }
        }
    }

    @Test
    void inverseRangeIsExactlyTheQueriesThatSeeTheKey() {
        for (int p = 1; p <= 40; p++) {
            for (int k = 1; k <= 15; k += 2) {
                int ke = Math.min(k, p);
                for (int j = 0; j < p; j++) {
                    int lo = Integer.MAX_VALUE;
                    int hi = Integer.MIN_VALUE;
                    int count = 0;
                    for (int i = 0; i < p; i++) {
                        int s = NaGeometry.windowStart(i, p, k);
                        if (s <= j && j < s + ke) {
                            lo = Math.min(lo, i);
                            hi = Math.max(hi, i);
                            count++;
                        }
                    }
                    assertEquals(hi - lo + 1, count, "contiguous");
                    assertArrayEquals(new int[] {lo, hi}, NaGeometry.inverseRange(j, p, k),
                            "p=" + p + " k=" + k + " j=" + j);
                }
            }
        }
    }

    @Test
    void launchCoversEveryQueryWithOneWarp() {
        NaGeometry g = new NaGeometry(64 * 16, 16, 7, 64, Precision.F16);
        assertEquals(64L * 16 * 256, g.rows());
        assertEquals(64 * 16 * 256 / 4, g.gridX()); // four warps per 128-thread block
        assertEquals(64L * 16 * 256 * 64 * 2, g.tensorBytes());
        assertEquals(7, g.effectiveKernel());
        assertEquals(4, g.alignment());
        NaGeometry odd = new NaGeometry(3, 5, 13, 128, Precision.F32);
        assertEquals(5, odd.effectiveKernel());
        assertEquals(19, odd.gridX()); // 75 warps, the last block three quarters idle
        assertEquals(16, odd.alignment());
        assertEquals("na_bwd_dkdv_f32_d128", odd.functionName(KernelEntry.BACKWARD_DKDV));
        assertEquals("na_fwd_f16_d64", g.functionName(KernelEntry.FORWARD));
        assertEquals("na_bwd_dq_f16_d32", KernelEntry.BACKWARD_DQ.functionName(Precision.F16, 32));
    }

    @Test
    void rejectsWhatHasNoKernel() {
        assertThrows(IllegalArgumentException.class, () -> new NaGeometry(1, 8, 6, 64, Precision.F32));
        assertThrows(IllegalArgumentException.class, () -> new NaGeometry(1, 8, 7, 48, Precision.F32));
        assertThrows(IllegalArgumentException.class, () -> new NaGeometry(0, 8, 7, 64, Precision.F32));
        assertThrows(IllegalArgumentException.class, () -> new NaGeometry(1, 0, 7, 64, Precision.F32));
        assertThrows(IllegalArgumentException.class,
                () -> new NaGeometry(Integer.MAX_VALUE, 64, 7, 64, Precision.F16));
    }
}
