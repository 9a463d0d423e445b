package ai.mvar.train.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.TensorMemory;
import com.sun.jna.Pointer;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Collectives over NCCL on one GPU per rank, queued on PyTorch's stream ({@link
 * CudaDriver#DEFAULT_STREAM}), so they run in order with the kernels that write the gradients and
 * the optimizer kernels that read them, and the host does not wait for them to be queued.
 *
 * <p>NCCL waits forever for a peer that never comes. {@link #synchronize} therefore never blocks
 * in CUDA: it polls an event recorded after the collectives, checks the communicator's
 * asynchronous error (a peer whose connection broke), and past the collective timeout aborts the
 * communicator ({@code ncclCommAbort}, which stops its kernels) and fails with a message.
 */
final class NcclGroup extends RankGroup {
    private static final long POLL_NANOS = 20_000;

    private final Nccl nccl;
    private final CudaDriver cuda;
    private final Pointer context;
    private final Pointer comm;
    private final Device device;
    private final NDManager manager;
    private final Mpi mpi;
    private boolean aborted;

    /** @param mpi the MPI that found the rendezvous (mpirun or srun), finalised on close; or null */
    NcclGroup(Nccl nccl, CudaDriver cuda, Pointer context, Pointer comm, Device device, NDManager manager, Mpi mpi,
            int rank, int size, Duration timeout, RendezvousClient membership, RendezvousServer hosted) {
        super(rank, size, timeout, membership, hosted);
        this.nccl = nccl;
        this.cuda = cuda;
        this.context = context;
        this.comm = comm;
        this.device = device;
        this.manager = manager;
        this.mpi = mpi;
    }

    @Override
    public Device bufferDevice(Device model) {
        if (!model.equals(device)) {
            throw new IllegalArgumentException("this rank's NCCL communicator is on " + device + ", the model on " + model);
        }
        return device;
    }

    @Override
    public void allReduceSum(NDArray tensor) {
        if (!tensor.getDevice().equals(device)) {
            throw new IllegalArgumentException("NCCL sums tensors on " + device + ", got one on " + tensor.getDevice());
        }
        int type = switch (tensor.getDataType()) {
            case FLOAT32 -> Nccl.FLOAT32;
            case FLOAT64 -> Nccl.FLOAT64;
            default -> throw new IllegalArgumentException("NCCL sums float32 or float64 tensors here, not "
                    + tensor.getDataType());
        };
        cuda.makeCurrent(context);
        nccl.allReduceSum(comm, new Pointer(TensorMemory.dataAddress((PtNDArray) tensor)), tensor.size(), type,
                CudaDriver.DEFAULT_STREAM);
    }

    @Override
    public void synchronize(String what) {
        cuda.makeCurrent(context);
        Pointer event = cuda.recordEvent();
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!cuda.completed(event)) {
                String error = nccl.asyncError(comm);
                if (error != null) {
                    throw abort(what + " failed: " + error);
                }
                if (System.nanoTime() > deadline) {
                    throw abort(what + " did not complete within " + timeout.toSeconds()
                            + " s (a rank hung or the network failed)");
                }
                LockSupport.parkNanos(POLL_NANOS);
            }
        } finally {
            cuda.destroy(event);
        }
    }

    private IllegalStateException abort(String message) {
        aborted = true;
        nccl.abort(comm);
        return new IllegalStateException("NCCL: " + message + "; the communicator was aborted");
    }

    @Override
    public double[] allReduceSum(double[] values) {
        if (values.length == 0) {
            return values.clone();
        }
        try (NDManager m = manager.newSubManager(device)) {
            NDArray t = m.create(values);
            allReduceSum(t);
            synchronize("NCCL all-reduce of " + values.length + " statistics");
            return t.toDoubleArray();
        }
    }

    @Override
    void closeCollectives() {
        if (!aborted) {
            cuda.makeCurrent(context);
            nccl.destroy(comm);
        }
        manager.close();
        if (mpi != null) {
            mpi.finish();
        }
    }
}
