package ai.mvar.train.distributed;

import ai.djl.Device;

/** The engine that sums gradients between ranks. */
public enum Backend {
    /** Open MPI on host memory: CPU ranks, or GPU ranks staged through the host (any number per GPU). */
    MPI,
    /** NCCL on the GPU, on PyTorch's stream: one rank per GPU. */
    NCCL;

    /** NCCL for GPU tensors, MPI for CPU tensors. */
    public static Backend forDevice(Device device) {
        return device.isGpu() ? NCCL : MPI;
    }
}
