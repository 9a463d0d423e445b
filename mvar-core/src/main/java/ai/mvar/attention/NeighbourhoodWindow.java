package ai.mvar.attention;

/**
 * The window rule of neighbourhood attention (NATTEN's {@code na2d}, dilation 1): on a {@code p x
 * p} map, query row i sees key rows {@code [start, start + k')} with {@code k' = min(k, p)} and
 * {@code start = clamp(i - k/2, 0, p - k')}; columns likewise. Every query sees exactly
 * {@code k' * k'} keys.
 */
public final class NeighbourhoodWindow {
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

    private static void checkKernel(int kernelSize) {
        if (kernelSize < 1 || kernelSize % 2 == 0) {
            throw new IllegalArgumentException("neighbourhood kernel size must be odd and positive, got " + kernelSize);
        }
    }
}
