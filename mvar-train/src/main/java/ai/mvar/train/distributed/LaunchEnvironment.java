package ai.mvar.train.distributed;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;

/**
 * Who this process is in a job started by a launcher, read from the variables the launcher sets:
 *
 * <ul>
 *   <li>{@code mvar train --devices a,b,...} itself ({@link LocalLauncher}): {@code RANK},
 *       {@code WORLD_SIZE}, {@code LOCAL_RANK} and {@link #RENDEZVOUS_VARIABLE} (its own
 *       rendezvous; with the MPI backend the ranks run under mpirun, which sets the Open MPI variables);
 *   <li>Open MPI's {@code mpirun}: {@code OMPI_COMM_WORLD_RANK}, {@code _SIZE}, {@code _LOCAL_RANK};
 *   <li>Slurm's {@code srun}: {@code SLURM_PROCID}, {@code SLURM_STEP_NUM_TASKS}, {@code SLURM_LOCALID}
 *       ({@code PMIX_RANK} too when srun starts MPI ranks, {@code --mpi=pmix});
 *   <li>torchrun, or any script that sets its variables: {@code RANK}, {@code WORLD_SIZE},
 *       {@code LOCAL_RANK}, {@code MASTER_ADDR}, {@code MASTER_PORT}.
 * </ul>
 *
 * The rendezvous ({@link RendezvousServer}) is at {@link #RENDEZVOUS_VARIABLE} when set, else at
 * {@code MASTER_ADDR}:{@code MASTER_PORT} (hosted by rank 0; port + 1 under torchrun, whose
 * agent already serves its own store on {@code MASTER_PORT}), else rank 0 hosts it on a free port
 * and tells the others through MPI (mpirun and srun with MPI need no further variables).
 *
 * @param rank this process's rank
 * @param size the number of ranks
 * @param localRank the rank among the processes on this machine (picks the device)
 * @param launcher what started the job, for messages
 * @param mpi whether the launcher started the processes as one MPI job (so MPI can be initialised)
 * @param rendezvous where the rendezvous is, when the environment says
 * @param hostsRendezvous whether this process must serve it (rank 0, unless mvar's launcher does)
 */
public record LaunchEnvironment(int rank, int size, int localRank, String launcher, boolean mpi,
        Optional<InetSocketAddress> rendezvous, boolean hostsRendezvous) {
    /** Set by {@link LocalLauncher} for its workers: host:port of the rendezvous it serves. */
    public static final String RENDEZVOUS_VARIABLE = "MVAR_RENDEZVOUS";

    public LaunchEnvironment {
        if (size < 1 || rank < 0 || rank >= size || localRank < 0) {
            throw new IllegalArgumentException("launcher " + launcher + " gave rank " + rank + " of " + size
                    + ", local rank " + localRank);
        }
    }

    /** This process's place in a job, or empty when no launcher started it. */
    public static Optional<LaunchEnvironment> detect(Map<String, String> env) {
        String launcher;
        int rank;
        int size;
        int localRank;
        boolean mpi;
        if (env.containsKey("OMPI_COMM_WORLD_SIZE")) {
            launcher = "mpirun";
            rank = number(env, "OMPI_COMM_WORLD_RANK");
            size = number(env, "OMPI_COMM_WORLD_SIZE");
            localRank = number(env, "OMPI_COMM_WORLD_LOCAL_RANK");
            mpi = true;
        } else if (env.containsKey("SLURM_STEP_NUM_TASKS") && env.containsKey("SLURM_PROCID")) {
            launcher = "srun";
            rank = number(env, "SLURM_PROCID");
            size = number(env, "SLURM_STEP_NUM_TASKS");
            localRank = number(env, "SLURM_LOCALID");
            mpi = env.containsKey("PMIX_RANK") || env.containsKey("PMI_RANK");
        } else if (env.containsKey("WORLD_SIZE") && env.containsKey("RANK")) {
            launcher = env.containsKey(RENDEZVOUS_VARIABLE) ? "mvar" : "torchrun";
            rank = number(env, "RANK");
            size = number(env, "WORLD_SIZE");
            localRank = env.containsKey("LOCAL_RANK") ? number(env, "LOCAL_RANK") : 0;
            mpi = false;
        } else {
            return Optional.empty();
        }
        Optional<InetSocketAddress> rendezvous;
        boolean hosts;
        if (env.containsKey(RENDEZVOUS_VARIABLE)) {
            rendezvous = Optional.of(address(env.get(RENDEZVOUS_VARIABLE), RENDEZVOUS_VARIABLE));
            hosts = false;
        } else if (env.containsKey("MASTER_ADDR") && env.containsKey("MASTER_PORT")) {
            int port = number(env, "MASTER_PORT");
            // torchrun's agent serves its own TCPStore on MASTER_PORT
            boolean agentStore = "true".equalsIgnoreCase(env.getOrDefault("TORCHELASTIC_USE_AGENT_STORE", ""));
            rendezvous = Optional.of(InetSocketAddress.createUnresolved(env.get("MASTER_ADDR"), agentStore ? port + 1 : port));
            hosts = rank == 0;
        } else if (mpi) {
            rendezvous = Optional.empty();
            hosts = rank == 0;
        } else {
            throw new IllegalArgumentException(launcher + " started this process as rank " + rank + " of " + size
                    + " but set neither MASTER_ADDR and MASTER_PORT nor " + RENDEZVOUS_VARIABLE
                    + ": the ranks cannot find each other");
        }
        return Optional.of(new LaunchEnvironment(rank, size, localRank, launcher, mpi, rendezvous, hosts));
    }

    /** {@code host:port}. */
    static InetSocketAddress address(String text, String variable) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(variable + " must be host:port, got '" + text + "'");
        }
        try {
            return InetSocketAddress.createUnresolved(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(variable + " must be host:port, got '" + text + "'", e);
        }
    }

    private static int number(Map<String, String> env, String key) {
        String v = env.get(key);
        if (v == null) {
            throw new IllegalArgumentException("the launcher did not set " + key);
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number, got '" + v + "'", e);
        }
    }
}
