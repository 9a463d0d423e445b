package ai.mvar.train.distributed;

import java.time.Duration;

/**
 * What the groups of several processes share: the rank, the job's size, the collective timeout and
 * the rendezvous membership that reports progress and failures and makes the end a clean one.
 */
abstract class RankGroup implements ProcessGroup {
    protected final int rank;
    protected final int size;
    protected final Duration timeout;
    private final RendezvousClient membership;
    private final RendezvousServer hosted;

    /**
     * @param membership this rank's open connection to the rendezvous
     * @param hosted the rendezvous server when this process serves it (else null)
     */
    RankGroup(int rank, int size, Duration timeout, RendezvousClient membership, RendezvousServer hosted) {
        this.rank = rank;
        this.size = size;
        this.timeout = timeout;
        this.membership = membership;
        this.hosted = hosted;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void progress(long step) {
        membership.step(step);
    }

    @Override
    public void fail(Throwable cause) {
        String message = cause.getMessage();
        membership.fail(cause.getClass().getSimpleName() + (message == null ? "" : ": " + message));
    }

    /** Releases the communicator (after every rank has finished). */
    abstract void closeCollectives();

    @Override
    public void close() {
        try {
            membership.finish(timeout);
            closeCollectives();
        } finally {
            membership.close();
            if (hosted != null) {
                hosted.close();
            }
        }
    }
}
