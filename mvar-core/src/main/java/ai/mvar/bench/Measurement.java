package ai.mvar.bench;

/**
 * One probe's result.
 *
 * @param medianMillis median wall time of the warm repetitions
 * @param peakBytes peak memory of the first (cold) repetition above the memory held before it
 *     started, with the weights loaded (resident set on the CPU, device memory on a GPU): what a
 *     fresh process grows by, its warm-up included
 * @param warmPeakBytes the largest peak of the warm repetitions above the memory held before each
 *     (the C heap trimmed first): the task's own memory without the process's warm-up; -1 where
 *     the memory's peak cannot be restarted per run (a GPU's caching allocator)
 * @param withWeightsBytes the cold peak above what the process held before the model loaded, so
 *     weights included; -1 when not measured
 */
public record Measurement(double medianMillis, long peakBytes, long warmPeakBytes, long withWeightsBytes) {

    /** A probe that reads one peak. */
    public Measurement(double medianMillis, long peakBytes) {
        this(medianMillis, peakBytes, -1, -1);
    }

    /** The line a probe prints and the parent parses. */
    public String toLine() {
        return "RESULT " + medianMillis + " " + peakBytes + " " + warmPeakBytes + " " + withWeightsBytes;
    }

    /** Reads a line written by {@link #toLine()}. */
    public static Measurement parse(String line) {
        String[] p = line.trim().split("\\s+");
        return new Measurement(Double.parseDouble(p[1]), Long.parseLong(p[2]), p.length > 3 ? Long.parseLong(p[3]) : -1,
                p.length > 4 ? Long.parseLong(p[4]) : -1);
    }

    public double peakMiB() {
        return peakBytes / (1024.0 * 1024.0);
    }

    public double warmPeakMiB() {
        return warmPeakBytes / (1024.0 * 1024.0);
    }

    public double withWeightsMiB() {
        return withWeightsBytes / (1024.0 * 1024.0);
    }

    /** The median of {@code v} (the mean of the middle two for an even count). */
    public static double median(double... v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
