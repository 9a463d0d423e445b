package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
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
        assertEquals(16, g.alignment()); // fp16 forward on tensor cores: 16-byte copies
        NaGeometry odd = new NaGeometry(3, 5, 13, 128, Precision.F32);
        assertEquals(5, odd.effectiveKernel());
        assertEquals(19, odd.gridX()); // 75 warps, the last block three quarters idle
        assertEquals(16, odd.alignment());
        assertEquals("na_bwd_dkdv_f32_d128", odd.functionName(KernelEntry.BACKWARD_DKDV));
        assertEquals("na_fwd_f16_d64", g.functionName(KernelEntry.FORWARD));
        assertEquals("na_bwd_dq_f16_d32", KernelEntry.BACKWARD_DQ.functionName(Precision.F16, 32));
    }

    @Test
    void benchmarkShapeGetsAFullWidthTile() {
        NaGeometry g = new NaGeometry(64 * 16, 16, 7, 64, Precision.F16);
        NaTile t = g.forwardTile().orElseThrow();
        assertEquals(8, t.rows());
        assertEquals(16, t.cols());
        assertEquals(8, t.warps());
        assertEquals(256, t.threads());
        assertEquals(176, t.keyCapacity()); // 11 key rows (0..10 for rows 0..7, 5..15 for 8..15) x 16
        assertEquals((2 * 176 + 128) * 72 * 2, t.sharedBytes());
        assertEquals(24, t.residentWarps()); // three blocks of 67.5 KB per SM
        assertEquals(8 * 7, t.chunks()); // each warp: one map row of queries, 7 key rows of 16
        assertEquals(64L * 16 * 2, t.blocks(g.batchHeads()));
        assertEquals(16, g.alignment()); // 16-byte asynchronous copies
        assertEquals("na_fwd_tc_f16_d64", g.functionName(KernelEntry.FORWARD_TILED));
        assertTrue(KernelEntry.FORWARD_TILED.supports(Precision.F16));
        assertFalse(KernelEntry.FORWARD_TILED.supports(Precision.F32));
        // fp32, and windows wider than 13, run one warp per query.
        assertTrue(new NaGeometry(4, 16, 7, 64, Precision.F32).forwardTile().isEmpty());
        assertTrue(new NaGeometry(4, 16, 15, 64, Precision.F16).forwardTile().isEmpty());
        assertEquals(4, new NaGeometry(4, 16, 15, 64, Precision.F16).alignment());
        // ... unless the map is small enough that the window is the whole map.
        assertTrue(new NaGeometry(4, 13, 15, 64, Precision.F16).forwardTile().isPresent());
    }

    /**
     * For every map up to 40, window and head dim: the tiles of two slices cover every query
     * exactly once; each block's key rectangle lies in the map, holds every window of its queries
     * and is at most (rows + ke - 1) x (cols + ke - 1); the kernel's window indexing (first key of
     * the query's window plus a per-slot offset) lands on exactly that window's keys; the block's
     * queries fit its warps and its keys the capacity the shared memory was sized for.
     */
    @Test
    void tilesCoverEveryQueryOnceAndHoldTheirWindows() {
        for (int p = 1; p <= 40; p++) {
            for (int k = 1; k <= 15; k += 2) {
                int ke = Math.min(k, p);
                for (int d : NaGeometry.HEAD_DIMS) {
                    String at = "p=" + p + " k=" + k + " d=" + d;
                    var chosen = NaTile.choose(p, k, d);
                    if (ke > NaTile.MAX_WINDOW) {
                        assertTrue(chosen.isEmpty(), at);
                        continue;
                    }
                    if (chosen.isEmpty() && d == 128 && ke >= 11) {
                        continue; // see sharedMemoryFitsEverywhereElse
                    }
                    NaTile t = chosen.orElseThrow(() -> new AssertionError("no tile for " + at));
                    assertTrue(t.sharedBytes() <= NaTile.MAX_SHARED_BYTES, at);
                    assertTrue(t.threads() <= 256 && t.rows() * t.cols() <= t.queryRows(), at);
                    assertTrue(t.rows() * t.cols() >= Math.min(16, p * p), at + ": at least one full warp");
                    assertTrue(t.keyCapacity() < 4096, at + ": the kernel's fp32 key-row division");
                    checkCoverage(t, p, k, ke, at);
                }
            }
        }
    }

    private static void checkCoverage(NaTile t, int p, int k, int ke, String at) {
        int slices = 2;
        int[][] seen = new int[slices][p * p];
        for (int index = 0; index < t.blocks(slices); index++) {
            NaTile.Block b = t.block(index);
            String where = at + " tile " + t.rows() + "x" + t.cols() + " block " + index;
            assertEquals(index / t.tilesPerSlice(), b.slice(), where);
            assertTrue(b.qrn() >= 1 && b.qcn() >= 1 && b.qrn() <= t.rows() && b.qcn() <= t.cols(), where);
            assertTrue(b.kr0() >= 0 && b.kr0() + b.krn() <= p && b.kc0() >= 0 && b.kc0() + b.kcn() <= p, where);
            assertTrue(b.krn() <= t.maxKeyRows() && b.kcn() <= t.maxKeyCols(), where);
            assertTrue(t.maxKeyRows() <= t.rows() + ke - 1 && t.maxKeyCols() <= t.cols() + ke - 1, where);
            assertTrue(b.paddedKeys() <= t.keyCapacity(), where);
            // Each warp walks rectangle keys [jbeg, jend) as the kernel computes them, in chunks of
            // 16 that must stay inside the staged (padded) keys.
            int nq = b.qrn() * b.qcn();
            int[] jbeg = new int[t.warps()];
            int[] jend = new int[t.warps()];
            for (int w = 0; w * 16 < nq; w++) {
                int m0 = 16 * w;
                int mlast = Math.min(m0 + 15, nq - 1);
                jbeg[w] = (NaGeometry.windowStart(b.qr0() + m0 / b.qcn(), p, k) - b.kr0()) * b.kcn() & ~15;
                jend[w] = (NaGeometry.windowStart(b.qr0() + mlast / b.qcn(), p, k) - b.kr0() + ke) * b.kcn();
                assertTrue(jbeg[w] >= 0 && jend[w] <= b.krn() * b.kcn(), where + " warp " + w);
            }
            for (int m = 0; m < b.qrn() * b.qcn(); m++) {
                // Query row m of the block, as the kernel numbers them.
                int r = b.qr0() + m / b.qcn();
                int c = b.qc0() + m % b.qcn();
                seen[b.slice()][r * p + c]++;
                int wr = NaGeometry.windowStart(r, p, k);
                int wc = NaGeometry.windowStart(c, p, k);
                assertTrue(wr >= b.kr0() && wr + ke <= b.kr0() + b.krn(), where + " query row " + r);
                assertTrue(wc >= b.kc0() && wc + ke <= b.kc0() + b.kcn(), where + " query col " + c);
                int first = (wr - b.kr0()) * b.kcn() + wc - b.kc0();
                Set<Integer> indexed = new HashSet<>();
                Set<Integer> window = new HashSet<>();
                for (int e = 0; e < ke * ke; e++) {
                    indexed.add(first + e / ke * b.kcn() + e % ke);
                    window.add((wr + e / ke - b.kr0()) * b.kcn() + wc + e % ke - b.kc0());
                }
                assertEquals(window, indexed, where + " query " + r + "," + c);
                assertTrue(indexed.stream().allMatch(j -> j >= 0 && j < b.krn() * b.kcn()), where);
                int w = m / 16;
                assertTrue(window.stream().allMatch(j -> j >= jbeg[w] && j < jend[w]), where + " warp " + w);
            }
        }
        for (int[] slice : seen) {
            for (int token = 0; token < slice.length; token++) {
                assertEquals(1, slice[token], at + ": query " + token + " computed " + slice[token] + " times");
            }
        }
    }

    /**
     * Every head dim and window up to 13 gets a tile of at least one full warp on maps up to 128,
     * within both architectures' limits, except head dim 128 with windows of 11 (maps from 18) and
     * 13 (maps from 14): there K and V of 16 queries' rectangle exceed 99 KB and the forward runs one
     * warp per query.
     */
    @Test
    void sharedMemoryFitsEverywhereElse() {
        assertTrue(NaTile.MAX_SHARED_BYTES <= 99 * 1024, "compute capability 8.6 and 8.9: 99 KB per block");
        for (int d : NaGeometry.HEAD_DIMS) {
            for (int k = 1; k <= NaTile.MAX_WINDOW; k += 2) {
                for (int p = 1; p <= 128; p++) {
                    var t = NaTile.choose(p, k, d);
                    boolean tooWide = d == 128 && (k == 11 && p >= 18 || k == 13 && p >= 14);
                    assertEquals(!tooWide, t.isPresent(), "p=" + p + " k=" + k + " d=" + d);
                    assertTrue(t.map(NaTile::sharedBytes).orElse(0) <= NaTile.MAX_SHARED_BYTES, "p=" + p + " k=" + k);
                }
            }
        }
    }

    /**
     * The kernel finds a key's rectangle row as floor((j + 0.5) * (1 / kcn)) in fp32 (round to
     * nearest, as Java's float arithmetic): exact for every key index it can see and every width.
     */
    @Test
    void fp32KeyRowDivisionIsExact() {
        for (int kcn = 1; kcn <= NaTile.MAX_QUERIES + NaTile.MAX_WINDOW - 1; kcn++) {
            float r = 1.0f / kcn;
            for (int j = 0; j < 4096; j++) {
                assertEquals(j / kcn, (int) ((j + 0.5f) * r), "j=" + j + " kcn=" + kcn);
            }
        }
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
