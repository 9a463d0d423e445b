package ai.mvar.train.bench;

import ai.mvar.bench.Measurement;
import ai.mvar.model.Mode;
import ai.mvar.train.distributed.Backend;
import ai.mvar.train.distributed.LocalLauncher;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Data-parallel training throughput on the CPU, each process with one intra-op thread and the same
 * batch per process, so that ideal scaling is 2x the samples per second:
 *
 * <ul>
 *   <li>one process;
 *   <li>two ranks of one job (MPI): the data-parallel training;
 *   <li>two independent processes at once, which never communicate: what two processes can do on
 *       this machine at all (they share its caches and memory bandwidth), the ceiling for the ranks.
 * </ul>
 *
 * Each runs {@link TrainingProbe} in fresh JVMs, the order rotating between rounds so that drift on
 * a shared machine hits all of them; the table gives the medians and the ratios.
 *
 * <p>Usage: {@code DataParallelBenchmark [VAR|MVAR] [batch per process] [rounds] [cycles] [depth]
 * [width] [heads]} (defaults MVAR 32 3 4 4 128 4: the Fashion-MNIST preset's transformer,
 * patch_nums 1,2,3,5,7, refine_step 3, k 3, V 256, Cvae 16, ratio_k 1).
 */
public final class DataParallelBenchmark {
    /** The three ways of running. */
    enum Setup {
        ONE("1 process"), RANKS("2 ranks (MPI)"), INDEPENDENT("2 independent processes");

        final String label;

        Setup(String label) {
            this.label = label;
        }
    }

    private DataParallelBenchmark() {}

    public static void main(String[] args) throws IOException {
        Mode mode = args.length > 0 ? Mode.valueOf(args[0].toUpperCase(Locale.ROOT)) : Mode.MVAR;
        TrainingProbe.Task task = new TrainingProbe.Task(mode, arg(args, 4, 4), arg(args, 5, 128), arg(args, 6, 4),
                arg(args, 1, 32), arg(args, 3, 4), 1, "1,2,3,5,7", 3, 3, 256, 16);
        System.out.println(run(task, arg(args, 2, 3), System.err::println));
    }

    /** The markdown report of {@code rounds} rounds; {@code task.batch()} is the batch per process. */
    public static String run(TrainingProbe.Task task, int rounds, Consumer<String> progress) throws IOException {
        Setup[] setups = Setup.values();
        double[][] samples = new double[setups.length][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < setups.length; i++) {
                Setup s = setups[(i + r) % setups.length];
                samples[s.ordinal()][r] = samplesPerSecond(task, s);
                progress.accept(String.format(Locale.ROOT, "round %d, %s: %.1f samples/s", r + 1, s.label,
                        samples[s.ordinal()][r]));
            }
        }
        double one = Measurement.median(samples[Setup.ONE.ordinal()]);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s training, random weights and tokens: depth %d, width %d, %d heads, V %d,"
                + " patch_nums %s, %d samples per process, one intra-op thread per process; median of %d rounds x %d"
                + " cycles (%d iterations each)%n%n", task.mode(), task.depth(), task.width(), task.heads(), task.vocab(),
                task.patchNums(), task.batch(), rounds, task.cycles(), task.period()));
        sb.append("| setup | samples per update | samples/s | speed-up over 1 process |\n|---|---|---|---|\n");
        for (Setup s : setups) {
            double v = Measurement.median(samples[s.ordinal()]);
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.2f |%n", s.label,
                    s == Setup.RANKS ? 2 * task.batch() : task.batch(), v, v / one));
        }
        sb.append(String.format(Locale.ROOT, "%n2 ranks reach %.0f%% of the throughput of 2 independent processes.%n",
                100 * Measurement.median(samples[Setup.RANKS.ordinal()]) / Measurement.median(samples[Setup.INDEPENDENT.ordinal()])));
        return sb.toString();
    }

    /** Samples per second of {@code task} run as {@code setup}, summed over its processes. */
    private static double samplesPerSecond(TrainingProbe.Task task, Setup setup) throws IOException {
        return switch (setup) {
            case ONE -> rate(task, finish(start(command(task)), "1 process"));
            case INDEPENDENT -> {
                Process a = start(command(task));
                Process b = start(command(task));
                yield rate(task, finish(a, "independent process A")) + rate(task, finish(b, "independent process B"));
            }
            case RANKS -> {
                TrainingProbe.Task whole = new TrainingProbe.Task(task.mode(), task.depth(), task.width(), task.heads(),
                        2 * task.batch(), task.cycles(), task.ratioK(), task.patchNums(), task.refineStep(), task.kernel(),
                        task.vocab(), task.latent());
                StringWriter out = new StringWriter();
                LocalLauncher.Result r = LocalLauncher.run(command(whole), 2, Backend.MPI, out, out, Duration.ofMinutes(2));
                if (!r.ok()) {
                    throw new IllegalStateException("the 2-rank probe failed: " + r + "\n" + out);
                }
                yield 2 * rate(task, result(out.toString()));
            }
        };
    }

    /** Samples per second of one process (or rank) training {@code task.batch()} samples per iteration. */
    private static double rate(TrainingProbe.Task task, Measurement m) {
        return task.batch() * task.period() / (m.medianMillis() / 1000);
    }

    private static List<String> command(TrainingProbe.Task task) {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"),
                TrainingProbe.class.getName()));
        cmd.addAll(task.args());
        return cmd;
    }

    private static Process start(List<String> cmd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        return pb.start();
    }

    private static Measurement finish(Process p, String what) throws IOException {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IllegalStateException(what + " failed:\n" + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return result(out);
    }

    private static Measurement result(String out) {
        return out.lines().filter(l -> l.startsWith("RESULT ")).findFirst().map(Measurement::parse)
                .orElseThrow(() -> new IllegalStateException("no RESULT line from the probe:\n" + out));
    }

    private static int arg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }
}
