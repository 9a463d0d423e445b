package ai.mvar.train.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.mvar.nn.Torch;
import ai.mvar.train.distributed.Backend;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two ranks on one GPU, summing their gradients through host memory with MPI, make the updates one
 * rank makes on the whole batch (MVAR, fp32, 10 steps). Skips without a GPU, and without Open MPI's
 * mpirun (a GPU machine may have none; NCCL is the GPU backend there, and NCCL cannot put two ranks
 * on one GPU). Tolerance 1e-4, not the CPU's 1e-5: some CUDA backward kernels sum with atomics, in
 * an order that changes between runs.
 */
class DataParallelGpuTest {
    private static final int STEPS = 10;

    @TempDir
    Path dir;

    @Test
    void twoRanksOnOneGpuOverHostStagedMpiMakeTheUpdatesOfOne() throws Exception {
        assumeTrue(Torch.engine().getGpuCount() > 0, "no GPU");
        assumeTrue(mpirunInstalled(), "no mpirun on this machine: host-staged MPI on a GPU is not tested here");
        Path cache = ChildRun.tokenCache(dir);
        Path one = dir.resolve("one");
        Path two = dir.resolve("two");
        ChildRun single = ChildRun.start(one, cache, 1, STEPS, 5, 0, "mvar", 9, "gpu0", Backend.MPI);
        assertEquals(0, single.await(Duration.ofMinutes(3)).exitCode(), single::output);
        ChildRun pair = ChildRun.start(two, cache, 2, STEPS, 5, 0, "mvar", 9, "gpu0", Backend.MPI);
        assertEquals(0, pair.await(Duration.ofMinutes(3)).exitCode(), pair::output);
        DataParallelTrainingTest.assertSameTraining(one, two, STEPS, 1e-4);
    }

    static boolean mpirunInstalled() {
        try {
            return new ProcessBuilder("mpirun", "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
