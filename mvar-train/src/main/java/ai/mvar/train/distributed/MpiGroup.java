package ai.mvar.train.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.TensorMemory;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.time.Duration;

/**
 * Collectives over Open MPI ({@link Mpi}) on host memory: CPU tensors are summed where they lie,
 * with no copy; GPU gradients are staged through the host by {@link GradientReducer}, which asks
 * {@link #bufferDevice} where buffers must be. MPI calls block and cannot be interrupted, so each
 * runs under a {@link Watchdog}: past the collective timeout the job is ended with
 * {@code MPI_Abort}, after telling the other ranks why.
 */
final class MpiGroup extends RankGroup {
    private final Mpi mpi;
    private final Watchdog watchdog;

    MpiGroup(Mpi mpi, int rank, int size, Duration timeout, RendezvousClient membership, RendezvousServer hosted,
            Stop stop) {
        super(rank, size, timeout, membership, hosted);
        this.mpi = mpi;
        this.watchdog = new Watchdog(timeout, reason -> {
            membership.fail(reason);
            stop.stop(reason, () -> mpi.abort(Stop.EXIT_CODE));
        });
    }

    @Override
    public Device bufferDevice(Device model) {
        return Device.cpu();
    }

    @Override
    public void allReduceSum(NDArray tensor) {
        if (!tensor.getDevice().equals(Device.cpu())) {
            throw new IllegalArgumentException("MPI sums host memory; stage " + tensor.getDevice() + " tensors on the CPU");
        }
        Mpi.Type type = switch (tensor.getDataType()) {
            case FLOAT32 -> Mpi.Type.FLOAT;
            case FLOAT64 -> Mpi.Type.DOUBLE;
            default -> throw new IllegalArgumentException("MPI sums float32 or float64 tensors, not " + tensor.getDataType());
        };
        Pointer data = new Pointer(TensorMemory.dataAddress((PtNDArray) tensor));
        try (Watchdog.Armed a = watchdog.arm("MPI_Allreduce of " + tensor.size() + " " + tensor.getDataType() + " values")) {
            mpi.allReduceSum(data, tensor.size(), type);
        }
    }

    @Override
    public void synchronize(String what) {
        // MPI calls return when they are done.
    }

    @Override
    public double[] allReduceSum(double[] values) {
        if (values.length == 0) {
            return values.clone();
        }
        try (Memory buffer = new Memory((long) values.length * Double.BYTES)) {
            buffer.write(0, values, 0, values.length);
            try (Watchdog.Armed a = watchdog.arm("MPI_Allreduce of " + values.length + " statistics")) {
                mpi.allReduceSum(buffer, values.length, Mpi.Type.DOUBLE);
            }
            return buffer.getDoubleArray(0, values.length);
        }
    }

    @Override
    void closeCollectives() {
        watchdog.close();
        mpi.finish();
    }
}
