package ai.mvar.train.bench;

import ai.mvar.bench.ForkedProbe;
import ai.mvar.bench.Measurement;
import ai.mvar.model.Mode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * MVAR against VAR training with the same model, batch and random tokens: each round runs both in
 * fresh JVMs ({@link TrainingProbe}, order alternating between rounds so drift on a shared machine
 * hits both), and the table reports the medians over rounds and the MVAR / VAR ratios.
 *
 * <p>A pass over the pyramid trains every scale once: one VAR iteration, one MVAR cycle at
 * {@code ratio_k} 1 (the scale-Markov block, then each neighbourhood scale alone). With a larger
 * {@code ratio_k} a cycle trains the block scales {@code ratio_k} times.
 *
 * <p>Usage: {@code TrainingBenchmark [depth] [width] [heads] [batch] [rounds] [cycles] [ratio_k]
 * [patch_nums]} (defaults 4 256 4 4 3 3 1 and the official 256 px pyramid 1..16; refine_step 8,
 * k 7, V 4096, Cvae 32; e.g. {@code 1,2,3,4,6,9,13,18,24,32} for 512 px).
 */
public final class TrainingBenchmark {
    static final String PATCH_NUMS = "1,2,3,4,5,6,8,10,13,16";

    private TrainingBenchmark() {}

    public static void main(String[] args) {
        TrainingProbe.Task task = new TrainingProbe.Task(Mode.MVAR, arg(args, 0, 4), arg(args, 1, 256), arg(args, 2, 4),
                arg(args, 3, 4), arg(args, 5, 3), arg(args, 6, 1), args.length > 7 ? args[7] : PATCH_NUMS, 8, 7, 4096, 32);
        System.out.println(run(task, arg(args, 4, 3), System.err::println));
    }

    /** The markdown report of {@code rounds} rounds of {@code task} in both modes. */
    public static String run(TrainingProbe.Task task, int rounds, java.util.function.Consumer<String> progress) {
        List<Measurement> var = new ArrayList<>();
        List<Measurement> mvar = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            Mode[] order = r % 2 == 0 ? new Mode[] {Mode.VAR, Mode.MVAR} : new Mode[] {Mode.MVAR, Mode.VAR};
            for (Mode mode : order) {
                Measurement m = ForkedProbe.run(TrainingProbe.class, task.withMode(mode).args());
                progress.accept(String.format(Locale.ROOT, "round %d %s: %.1f ms per cycle, peak %.1f MiB", r + 1, mode,
                        m.medianMillis(), m.peakMiB()));
                (mode == Mode.VAR ? var : mvar).add(m);
            }
        }
        double varPass = Measurement.median(var.stream().mapToDouble(Measurement::medianMillis).toArray());
        double mvarCycle = Measurement.median(mvar.stream().mapToDouble(Measurement::medianMillis).toArray());
        double varMiB = Measurement.median(var.stream().mapToDouble(Measurement::peakMiB).toArray());
        double mvarMiB = Measurement.median(mvar.stream().mapToDouble(Measurement::peakMiB).toArray());
        int period = task.withMode(Mode.MVAR).period();
        double varIt = varPass;
        double mvarIt = mvarCycle / period;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "training, random weights and tokens: depth %d, width %d, %d heads, V %d, Cvae %d,"
                + " batch %d, patch_nums %s, refine_step %d, k %d, ratio_k %d (MVAR cycle = %d iterations);"
                + " median of %d rounds x %d cycles%n%n", task.depth(), task.width(), task.heads(), task.vocab(),
                task.latent(), task.batch(), task.patchNums(), task.refineStep(), task.kernel(), task.ratioK(), period,
                rounds, task.cycles()));
        sb.append("| mode | time per iteration ms | time per pass over the pyramid ms | peak memory MiB |\n|---|---|---|---|\n");
        sb.append(String.format(Locale.ROOT, "| VAR (whole pyramid, block-causal) | %.1f | %.1f | %.1f |%n", varIt, varPass,
                varMiB));
        sb.append(String.format(Locale.ROOT, "| MVAR (scale-Markov block, then each neighbourhood scale) | %.1f | %.1f | %.1f |%n",
                mvarIt, mvarCycle, mvarMiB));
        sb.append(String.format(Locale.ROOT, "| MVAR / VAR | %.2f | %.2f | %.2f |%n", mvarIt / varIt, mvarCycle / varPass,
                mvarMiB / varMiB));
        return sb.toString();
    }

    private static int arg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }
}
