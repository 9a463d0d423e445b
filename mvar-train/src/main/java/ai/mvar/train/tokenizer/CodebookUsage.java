package ai.mvar.train.tokenizer;

import java.util.Arrays;

/**
 * Which codes each scale used since the last {@link #reset()}: the usage fraction per scale, and
 * the dead codes no scale chose, which the trainer re-seeds.
 */
public final class CodebookUsage {
    private final long[][] hits;

    public CodebookUsage(int scales, int vocab) {
        hits = new long[scales][vocab];
    }

    /** Counts the codes {@code indices} chose at {@code scale}. */
    public void record(int scale, long[] indices) {
        for (long i : indices) {
            hits[scale][(int) i]++;
        }
    }

    /** Fraction of the codebook scale {@code s} used. */
    public double usage(int scale) {
        return (double) Arrays.stream(hits[scale]).filter(h -> h > 0).count() / hits[scale].length;
    }

    /** Usage fraction of every scale. */
    public double[] usage() {
        double[] u = new double[hits.length];
        for (int s = 0; s < u.length; s++) {
            u[s] = usage(s);
        }
        return u;
    }

    /** Codes that no scale chose. */
    public int[] deadCodes() {
        int vocab = hits[0].length;
        return java.util.stream.IntStream.range(0, vocab)
                .filter(c -> Arrays.stream(hits).allMatch(h -> h[c] == 0))
                .toArray();
    }

    /** The hit counts, scale-major ({@code [scales * vocab]}), to save with a checkpoint. */
    public long[] counts() {
        long[] out = new long[hits.length * hits[0].length];
        for (int s = 0; s < hits.length; s++) {
            System.arraycopy(hits[s], 0, out, s * hits[s].length, hits[s].length);
        }
        return out;
    }

    /** Continues from saved {@link #counts()}. */
    public void restore(long[] counts) {
        if (counts.length != hits.length * hits[0].length) {
            throw new IllegalArgumentException("saved codebook usage has " + counts.length + " counts, expected "
                    + hits.length + " scales x " + hits[0].length + " codes");
        }
        for (int s = 0; s < hits.length; s++) {
            System.arraycopy(counts, s * hits[s].length, hits[s], 0, hits[s].length);
        }
    }

    public void reset() {
        for (long[] h : hits) {
            Arrays.fill(h, 0);
        }
    }
}
