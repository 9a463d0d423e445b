package ai.mvar.train.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.mvar.nn.Torch;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * NCCL on a real GPU, world size 1: loads libnccl.so.2, shares the unique id through the
 * rendezvous, creates the communicator in PyTorch's context, sums on PyTorch's stream and waits
 * through the event poll. Skips without a GPU (GPU machines run test lists through scripts/gpu/device.sh, docs/gpu.md).
 * Several GPUs talking NCCL cannot be tested on one GPU: see docs/distributed.md.
 */
class NcclGpuTest {
    @Test
    void aWorldOfOneRankSumsOnPyTorchsStream() throws Exception {
        assumeTrue(Torch.engine().getGpuCount() > 0, "no GPU: NCCL runs on the GPU machine only");
        LaunchEnvironment env = new LaunchEnvironment(0, 1, 0, "test", false,
                Optional.of(InetSocketAddress.createUnresolved("127.0.0.1", 0)), true);
        DataParallel.Timeouts timeouts = new DataParallel.Timeouts(Duration.ofSeconds(30), Duration.ofSeconds(60));
        try (ProcessGroup group = DataParallel.join(env, Device.gpu(0), Backend.NCCL, timeouts);
                NDManager m = Torch.newManager(Device.gpu(0))) {
            NDArray t = m.create(new float[] {1, 2, 3.5f});
            group.allReduceSum(t);
            group.synchronize("the test's all-reduce");
            assertArrayEquals(new float[] {1, 2, 3.5f}, t.toFloatArray());
            assertArrayEquals(new double[] {4, -5}, group.allReduceSum(new double[] {4, -5}));
        }
    }
}
