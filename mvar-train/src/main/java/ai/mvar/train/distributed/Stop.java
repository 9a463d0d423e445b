package ai.mvar.train.distributed;

/**
 * How a rank ends its process when the job must stop (a peer died, a collective timed out): one
 * line on stderr with the reason, then exit code {@link #EXIT_CODE} without shutdown hooks, so a
 * step cut short writes nothing. The newest checkpoint stays the place to resume from.
 */
@FunctionalInterface
interface Stop {
    int EXIT_CODE = 3;

    /** Reports {@code reason}, runs {@code last} (e.g. {@code MPI_Abort}) and ends the process. */
    void stop(String reason, Runnable last);

    /** The stop of rank {@code rank} of {@code size}. */
    static Stop halting(int rank, int size) {
        return (reason, last) -> {
            System.err.println("mvar: rank " + rank + " of " + size + ": stopping: " + reason);
            System.err.flush();
            try {
                last.run();
            } finally {
                Runtime.getRuntime().halt(EXIT_CODE);
            }
        };
    }
}
