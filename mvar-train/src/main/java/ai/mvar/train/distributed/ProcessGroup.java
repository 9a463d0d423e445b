package ai.mvar.train.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;

/**
 * The processes ("ranks") of one data-parallel job and the collectives they share, in the shape
 * of PyTorch's {@code ProcessGroup}: every rank calls the same collectives in the same order.
 *
 * <p>Implementations: {@link #single()} for a job of one process; {@link MpiGroup} (Open MPI, CPU
 * tensors, or GPU tensors staged through the host); {@link NcclGroup} (NCCL on PyTorch's CUDA
 * stream). {@link DataParallel#join} makes the right one for the process it runs in.
 *
 * <p>No collective waits forever: one that has not completed within the job's collective timeout
 * stops the job with a message naming it. A rank that dies makes the others stop within seconds
 * (see {@link RendezvousServer}).
 */
public interface ProcessGroup extends AutoCloseable {
    /** This process's rank, 0 to {@code size() - 1}. */
    int rank();

    /** The number of ranks. */
    int size();

    /** Where a tensor handed to {@link #allReduceSum(NDArray)} must live when the model lives on {@code model}. */
    Device bufferDevice(Device model);

    /**
     * Sums a contiguous float32 or float64 tensor on {@link #bufferDevice} over all ranks, in
     * place. It may return before the sum is done (NCCL queues it on the device); {@link
     * #synchronize} waits.
     */
    void allReduceSum(NDArray tensor);

    /** Waits until every sum started so far has completed; {@code what} names them in a timeout's message. */
    void synchronize(String what);

    /** Sums host values over all ranks (blocking); every rank gets the totals. */
    double[] allReduceSum(double[] values);

    /** Rank 0's {@code value} on every rank (exact for magnitudes below 2^53). */
    default long broadcast(long value) {
        return (long) allReduceSum(new double[] {rank() == 0 ? value : 0})[0];
    }

    /** Tells the job this rank completed {@code step}; failure messages name the step. */
    default void progress(long step) {}

    /**
     * This rank is failing with {@code cause}: the other ranks stop now, naming it, instead of
     * waiting for this one in a collective until the timeout.
     */
    default void fail(Throwable cause) {}

    /** Leaves the job after every rank has finished (a clean end is not mistaken for a death). */
    @Override
    void close();

    /** A job of one process: collectives return their input. */
    static ProcessGroup single() {
        return SingleProcess.INSTANCE;
    }

    /** The group of one process. */
    final class SingleProcess implements ProcessGroup {
        static final SingleProcess INSTANCE = new SingleProcess();

        private SingleProcess() {}

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int size() {
            return 1;
        }

        @Override
        public Device bufferDevice(Device model) {
            return model;
        }

        @Override
        public void allReduceSum(NDArray tensor) {}

        @Override
        public void synchronize(String what) {}

        @Override
        public double[] allReduceSum(double[] values) {
            return values.clone();
        }

        @Override
        public void close() {}
    }
}
