package ai.mvar.train.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Scope;
import ai.mvar.nn.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A rank of a test job, started by {@link LocalLauncherTest} through {@link LocalLauncher}.
 *
 * <p>Usage: {@code RankMain reduce <bucket bytes>}: sums known per-rank gradients through a
 * {@link GradientReducer} over MPI and checks the sums; {@code RankMain die <pid folder>}: rank 1
 * SIGKILLs itself after joining while rank 0 waits in all-reduces; {@code RankMain die-direct <pid
 * folder>}: the same with the rendezvous only (ranks started directly, as for NCCL), rank 0
 * waiting for a value nobody shares.
 */
public final class RankMain {
    private RankMain() {}

    public static void main(String[] args) throws Exception {
        LaunchEnvironment env = LaunchEnvironment.detect(System.getenv()).orElseThrow();
        switch (args[0]) {
            case "reduce" -> reduce(env, Long.parseLong(args[1]));
            case "die" -> die(env, Path.of(args[1]));
            case "die-direct" -> dieDirect(env, Path.of(args[1]));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    /** Parameter i of rank r has gradient (r + 1) * (i + 1) * [1, 2, 3, ...]; "unused" has none. */
    private static void reduce(LaunchEnvironment env, long bucketBytes) throws IOException {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        shapes.put("a", new Shape(3, 4));
        shapes.put("unused", new Shape(7));
        shapes.put("b", new Shape(5));
        shapes.put("c", new Shape(2, 2, 2));
        try (ProcessGroup group = DataParallel.join(env, Device.cpu(), Backend.MPI, DataParallel.Timeouts.standard());
                NDManager m = Torch.newManager()) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            shapes.forEach((k, s) -> params.put(k, m.zeros(s)));
            int rank = group.rank();
            int n = group.size();
            try (GradientReducer reducer = new GradientReducer(group, params, bucketBytes)) {
                for (int round = 0; round < 2; round++) {
                    int r = round;
                    Scope.run(() -> {
                        Function<String, NDArray> local = name -> name.equals("unused") ? null
                                : m.arange(1f, shapes.get(name).size() + 1f).reshape(shapes.get(name))
                                        .mul((rank + 1) * (index(shapes, name) + 1) * (r + 1));
                        Function<String, NDArray> sum = reducer.reduce(local);
                        check(sum.apply("unused") == null, "a parameter without gradients stays without");
                        for (String name : shapes.keySet()) {
                            if (name.equals("unused")) {
                                continue;
                            }
                            float[] got = sum.apply(name).toFloatArray();
                            float scale = n * (n + 1) / 2f * (index(shapes, name) + 1) * (r + 1);
                            for (int i = 0; i < got.length; i++) {
                                check(got[i] == scale * (i + 1), name + "[" + i + "] = " + got[i] + ", expected "
                                        + scale * (i + 1));
                            }
                            check(sum.apply(name).getShape().equals(shapes.get(name)), "shape of " + name);
                        }
                    });
                }
                double[] stats = group.allReduceSum(new double[] {rank, 1});
                check(stats[0] == n * (n - 1) / 2.0 && stats[1] == n, "statistics " + Arrays.toString(stats));
                check(group.broadcast(rank == 0 ? 41 : 7) == 41, "broadcast from rank 0");
                System.out.println("REDUCED rank " + rank + " of " + n + ", " + reducer.buckets() + " bucket(s)");
            }
        }
    }

    private static int index(Map<String, Shape> shapes, String name) {
        return java.util.List.copyOf(shapes.keySet()).indexOf(name);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private static void die(LaunchEnvironment env, Path pids) throws IOException, InterruptedException {
        try (ProcessGroup group = DataParallel.join(env, Device.cpu(), Backend.MPI, DataParallel.Timeouts.standard());
                NDManager m = Torch.newManager()) {
            NDArray t = m.ones(new Shape(1000), DataType.FLOAT32);
            for (long step = 1; ; step++) {
                group.allReduceSum(t);
                group.progress(step);
                if (step == 3) {
                    killRankOne(group.rank(), pids);
                }
                Thread.sleep(50);
            }
        }
    }

    private static void dieDirect(LaunchEnvironment env, Path pids) throws IOException, InterruptedException {
        Stop stop = Stop.halting(env.rank(), env.size());
        try (RendezvousClient c = RendezvousClient.join(env.rendezvous().orElseThrow(), env.rank(), env.size(),
                "pid " + ProcessHandle.current().pid(), DataParallel.Timeouts.standard().rendezvousTimeout(),
                reason -> stop.stop(reason, () -> {}))) {
            c.step(5);
            killRankOne(env.rank(), pids);
            c.get("never-shared", java.time.Duration.ofMinutes(5));
        }
    }

    /** Rank 1 writes its pid and dies of SIGKILL, as if the machine's OOM killer took it. */
    private static void killRankOne(int rank, Path pids) throws IOException, InterruptedException {
        Files.writeString(pids.resolve("rank-" + rank + ".pid"), Long.toString(ProcessHandle.current().pid()));
        if (rank == 1) {
            new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid())).inheritIO().start().waitFor();
            Thread.sleep(60_000);
        }
    }
}
