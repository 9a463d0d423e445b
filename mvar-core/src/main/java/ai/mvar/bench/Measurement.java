package ai.mvar.bench;

/**
 * One probe's result.
 *
 * @param medianMillis median wall time of the warm repetitions
 * @param peakBytes peak resident memory of the first (cold) repetition above the memory held
 *     before it started
 */
public record Measurement(double medianMillis, long peakBytes) {

    /** The line a probe prints and the parent parses. */
    public String toLine() {
        return "RESULT " + medianMillis + " " + peakBytes;
    }

    static Measurement parse(String line) {
        String[] p = line.trim().split("\\s+");
        return new Measurement(Double.parseDouble(p[1]), Long.parseLong(p[2]));
    }

    public double peakMiB() {
        return peakBytes / (1024.0 * 1024.0);
    }

    /** The median of {@code v} (the mean of the middle two for an even count). */
    public static double median(double... v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
