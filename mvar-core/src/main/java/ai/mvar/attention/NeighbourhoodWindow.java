package ai.mvar.attention;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The window rule of neighbourhood attention (NATTEN's {@code na2d}, dilation 1): on a {@code p x
 * p} map, query row i sees key rows {@code [start, start + k')} with {@code k' = min(k, p)} and
 * {@code start = clamp(i - k/2, 0, p - k')}; columns likewise. Every query sees exactly
 * {@code k' * k'} keys.
 */
public final class NeighbourhoodWindow {
    private static final Map<Long, long[]> KEYS = new ConcurrentHashMap<>();

    private NeighbourhoodWindow() {}

    /** Keys per row (and per column) a query sees. */
    public static int span(int side, int kernelSize) {
        checkKernel(kernelSize);
        return Math.min(kernelSize, side);
    }

    /** First key row (or column) of query row (or column) i. */
    public static int start(int i, int side, int kernelSize) {
        int span = span(side, kernelSize);
        return Math.min(Math.max(i - kernelSize / 2, 0), side - span);
    }

    /**
     * Flattened key indices of every query's window, query-major: entry {@code q * span^2 + w} is
     * the w-th key (row-major inside the window) of query q.
     */
    public static long[] keyIndices(int side, int kernelSize) {
        return KEYS.computeIfAbsent(((long) side << 32) | kernelSize, key -> build(side, kernelSize)).clone();
    }

    private static long[] build(int side, int kernelSize) {
        int span = span(side, kernelSize);
        long[] idx = new long[side * side * span * span];
        int n = 0;
        for (int i = 0; i < side; i++) {
            int r0 = start(i, side, kernelSize);
            for (int j = 0; j < side; j++) {
                int c0 = start(j, side, kernelSize);
                for (int r = r0; r < r0 + span; r++) {
                    for (int c = c0; c < c0 + span; c++) {
                        idx[n++] = (long) r * side + c;
                    }
                }
            }
        }
        return idx;
    }

    private static void checkKernel(int kernelSize) {
        if (kernelSize < 1 || kernelSize % 2 == 0) {
            throw new IllegalArgumentException("neighbourhood kernel size must be odd and positive, got " + kernelSize);
        }
    }
}
