package ai.mvar.train.distributed;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A deadline for blocking calls that cannot be interrupted (an MPI collective waits inside the C
 * library): {@link #arm} before the call, close the returned handle after it. A call still running
 * at the deadline gets {@code onTimeout} with a message naming it, on the watchdog's thread; that
 * handler must end the job, since the call itself will not return.
 */
final class Watchdog implements AutoCloseable {
    private final Duration timeout;
    private final Consumer<String> onTimeout;
    private final ScheduledThreadPoolExecutor timer =
            new ScheduledThreadPoolExecutor(1, r -> RendezvousServer.daemon(r, "collective watchdog"));

    Watchdog(Duration timeout, Consumer<String> onTimeout) {
        this.timeout = timeout;
        this.onTimeout = onTimeout;
        // two deadlines per step, nearly all cancelled: without this they would wait in the queue until they expire
        timer.setRemoveOnCancelPolicy(true);
    }

    Duration timeout() {
        return timeout;
    }

    /** Starts the clock for {@code what}; closing the handle stops it. */
    Armed arm(String what) {
        ScheduledFuture<?> f = timer.schedule(() -> onTimeout.accept(what + " did not complete within "
                + timeout.toSeconds() + " s (a rank hung or the network failed)"), timeout.toMillis(), TimeUnit.MILLISECONDS);
        return () -> f.cancel(false);
    }

    /** Deadlines still waiting (for tests). */
    int pending() {
        return timer.getQueue().size();
    }

    /** A running deadline. */
    interface Armed extends AutoCloseable {
        @Override
        void close();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
