package ai.mvar.bench;

import ai.mvar.model.Mode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * MVAR against VAR token generation with the same random weights and batch: each round runs both in
 * fresh JVMs (order alternating between rounds, so drift on a shared machine hits both), and the
 * table reports the medians over rounds and their ratios.
 *
 * <p>Usage: {@code SamplingBenchmark [depth] [batch] [rounds] [reps] [patch_nums]}.
 */
public final class SamplingBenchmark {
    private SamplingBenchmark() {}

    public static void main(String[] args) {
        int depth = AttentionBenchmark.arg(args, 0, 6);
        int batch = AttentionBenchmark.arg(args, 1, 8);
        int rounds = AttentionBenchmark.arg(args, 2, 3);
        int reps = AttentionBenchmark.arg(args, 3, 3);
        String patchNums = args.length > 4 ? args[4] : "1,2,3,4,5,6,8,10,13,16";
        System.out.println(run(depth, batch, rounds, reps, patchNums));
    }

    /** The markdown report. */
    public static String run(int depth, int batch, int rounds, int reps, String patchNums) {
        List<Measurement> var = new ArrayList<>();
        List<Measurement> mvar = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            Mode[] order = r % 2 == 0 ? new Mode[] {Mode.VAR, Mode.MVAR} : new Mode[] {Mode.MVAR, Mode.VAR};
            for (Mode mode : order) {
                Measurement m = ForkedProbe.run(List.of("sample", mode.name(), String.valueOf(depth),
                        String.valueOf(batch), String.valueOf(reps), patchNums));
                (mode == Mode.VAR ? var : mvar).add(m);
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "token generation, random weights: depth %d (width %d, %d heads), V 4096, batch %d,"
                + " patch_nums %s, cfg 1.5; median of %d rounds x %d reps%n%n", depth, 64 * depth, depth, batch, patchNums, rounds, reps));
        sb.append(new Comparison(medianOf(var), medianOf(mvar)).table());
        return sb.toString();
    }

    /**
     * MVAR against VAR for a preset: medians over {@code rounds} rounds (each mode in a fresh JVM per
     * round, order alternating) of the probes' median time and cold peak memory.
     *
     * @param task the settings; its mode is replaced by each of the two
     */
    public static Comparison comparePreset(GenerationTask task, int rounds, java.util.function.Consumer<String> progress) {
        List<Measurement> var = new ArrayList<>();
        List<Measurement> mvar = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            Mode[] order = r % 2 == 0 ? new Mode[] {Mode.VAR, Mode.MVAR} : new Mode[] {Mode.MVAR, Mode.VAR};
            for (Mode mode : order) {
                progress.accept("round " + (r + 1) + "/" + rounds + ": " + mode);
                (mode == Mode.VAR ? var : mvar).add(ForkedProbe.run(task.withMode(mode).args()));
            }
        }
        return new Comparison(medianOf(var), medianOf(mvar));
    }

    /** VAR's and MVAR's median time per batch and peak memory. */
    public record Comparison(Measurement var, Measurement mvar) {
        public double timeRatio() {
            return mvar.medianMillis() / var.medianMillis();
        }

        /** Of the cold runs' peaks. */
        public double memoryRatio() {
            return (double) mvar.peakBytes() / var.peakBytes();
        }

        /**
         * The comparison as a markdown table: time, the cold and warm runs' peak memory, the peak
         * with weights, and MVAR / VAR ratios ("n/a" for what was not measured).
         */
        public String table() {
            StringBuilder sb = new StringBuilder();
            sb.append("| mode | time per batch ms | peak memory MiB, cold run | peak memory MiB, warm run"
                    + " | peak with weights MiB |\n|---|---|---|---|---|\n");
            sb.append(row("VAR (block-causal, KV cache)", var));
            sb.append(row("MVAR (scale-Markov + neighbourhood)", mvar));
            sb.append(String.format(Locale.ROOT, "| MVAR / VAR | %.2f | %.2f | %s | %s |%n", timeRatio(), memoryRatio(),
                    ratio(mvar.warmPeakBytes(), var.warmPeakBytes()), ratio(mvar.withWeightsBytes(), var.withWeightsBytes())));
            return sb.toString();
        }

        private static String row(String mode, Measurement m) {
            return String.format(Locale.ROOT, "| %s | %.1f | %.1f | %s | %s |%n", mode, m.medianMillis(), m.peakMiB(),
                    mib(m.warmPeakBytes()), mib(m.withWeightsBytes()));
        }

        private static String mib(long bytes) {
            return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", bytes / (1024.0 * 1024.0));
        }

        private static String ratio(long a, long b) {
            return a < 0 || b <= 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", (double) a / b);
        }
    }

    private static Measurement medianOf(List<Measurement> ms) {
        double millis = median(ms.stream().mapToDouble(Measurement::medianMillis).toArray());
        return new Measurement(millis, medianBytes(ms, Measurement::peakBytes), medianBytes(ms, Measurement::warmPeakBytes),
                medianBytes(ms, Measurement::withWeightsBytes));
    }

    /** The median of a reading, -1 if any probe did not take it. */
    private static long medianBytes(List<Measurement> ms, java.util.function.ToLongFunction<Measurement> reading) {
        if (ms.stream().anyMatch(m -> reading.applyAsLong(m) < 0)) {
            return -1;
        }
        return Math.round(median(ms.stream().mapToDouble(m -> (double) reading.applyAsLong(m)).toArray()));
    }

    private static double median(double[] v) {
        return Measurement.median(v);
    }
}
