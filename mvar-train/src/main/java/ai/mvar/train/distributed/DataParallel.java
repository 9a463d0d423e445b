package ai.mvar.train.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Torch;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins this process to its data-parallel job as one rank: finds (or serves) the rendezvous, joins
 * it, and opens the collectives of the chosen {@link Backend} on this rank's device.
 */
public final class DataParallel {
    private static final Logger LOG = LoggerFactory.getLogger(DataParallel.class);
    private static final int ADDRESS_BYTES = 256;
    private static final String NCCL_ID = "nccl-unique-id";

    /**
     * @param rendezvousTimeout how long ranks wait for each other to start and join
     * @param collectiveTimeout the longest a collective may take before the job is stopped
     */
    public record Timeouts(Duration rendezvousTimeout, Duration collectiveTimeout) {
        /** 5 minutes to start, 10 minutes per collective (PyTorch's NCCL default). */
        public static Timeouts standard() {
            return new Timeouts(Duration.ofMinutes(5), Duration.ofMinutes(10));
        }
    }

    private DataParallel() {}

    /**
     * The process group of rank {@code env.rank()}, computing on {@code device}. Whenever the job
     * must stop (a rank died or failed, a collective timed out) this process prints why and exits
     * with code {@value Stop#EXIT_CODE}.
     */
    public static ProcessGroup join(LaunchEnvironment env, Device device, Backend backend, Timeouts timeouts)
            throws IOException {
        if (backend == Backend.MPI && !env.mpi()) {
            throw new IllegalStateException("the MPI backend needs ranks started as one MPI job (mpirun, or srun"
                    + " --mpi=pmix); " + env.launcher() + " started this one"
                    + (device.isGpu() ? ": use --backend nccl" : ""));
        }
        if (backend == Backend.NCCL && !device.isGpu()) {
            throw new IllegalArgumentException("NCCL sums GPU tensors; rank " + env.rank() + " computes on " + device
                    + " (use --backend mpi)");
        }
        Mpi mpi = backend == Backend.MPI || env.rendezvous().isEmpty() ? Mpi.get() : null;
        if (mpi != null && (mpi.size() != env.size() || mpi.rank() != env.rank())) {
            throw new IllegalStateException("MPI says rank " + mpi.rank() + " of " + mpi.size() + ", " + env.launcher()
                    + " said rank " + env.rank() + " of " + env.size());
        }
        Stop stop = Stop.halting(env.rank(), env.size());
        RendezvousServer server = null;
        InetSocketAddress address = env.rendezvous().orElse(null);
        if (env.hostsRendezvous()) {
            server = RendezvousServer.start(new InetSocketAddress(address == null ? 0 : address.getPort()), env.size(),
                    timeouts.rendezvousTimeout(), reason -> {});
            address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
        }
        if (env.rendezvous().isEmpty()) {
            // mpirun and srun say nothing about a rendezvous: rank 0 tells the others where its server is
            InetSocketAddress shared = broadcastAddress(mpi,
                    server == null ? null : InetSocketAddress.createUnresolved(hostName(), server.port()));
            address = server == null ? shared : address;
        }
        String who = "pid " + ProcessHandle.current().pid() + " on " + hostName() + ", " + Torch.name(device);
        RendezvousClient membership;
        try {
            membership = RendezvousClient.join(address, env.rank(), env.size(), who, timeouts.rendezvousTimeout(),
                    reason -> stop.stop(reason, () -> {}));
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            throw e;
        }
        LOG.info("rank {} of {} ({}, {}) joined the rendezvous at {}; backend {}", env.rank(), env.size(), who,
                env.launcher(), address, backend);
        try {
            return backend == Backend.MPI
                    ? new MpiGroup(mpi, env.rank(), env.size(), timeouts.collectiveTimeout(), membership, server, stop)
                    : nccl(env, device, timeouts, membership, server, mpi);
        } catch (IOException | RuntimeException e) {
            membership.fail(e.toString());
            membership.close();
            if (server != null) {
                server.close();
            }
            throw e;
        }
    }

    /** NCCL's communicator on {@code device}; {@code mpi} (or null) is finalised when the group closes. */
    private static NcclGroup nccl(LaunchEnvironment env, Device device, Timeouts timeouts, RendezvousClient membership,
            RendezvousServer server, Mpi mpi) throws IOException {
        Nccl nccl = Nccl.get();
        CudaDriver cuda = CudaDriver.get();
        NDManager manager = Torch.newManager(device);
        try {
            // PyTorch creates the device's primary context when it first computes there; NCCL joins that context.
            manager.zeros(new Shape(1)).close();
            Pointer context = cuda.primaryContext(device.getDeviceId());
            cuda.makeCurrent(context);
            String id;
            if (env.rank() == 0) {
                id = nccl.newUniqueId();
                membership.put(NCCL_ID, id);
            } else {
                id = membership.get(NCCL_ID, timeouts.rendezvousTimeout());
            }
            Pointer comm = nccl.initRank(id, env.size(), env.rank());
            LOG.info("NCCL {} ({}): communicator of {} ranks on {}", nccl.version(), nccl.library(), env.size(), device);
            return new NcclGroup(nccl, cuda, context, comm, device, manager, mpi, env.rank(), env.size(),
                    timeouts.collectiveTimeout(), membership, server);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** Rank 0's rendezvous address, sent to every rank through MPI. */
    private static InetSocketAddress broadcastAddress(Mpi mpi, InetSocketAddress mine) {
        try (Memory buffer = new Memory(ADDRESS_BYTES)) {
            buffer.clear();
            if (mine != null) {
                byte[] text = (mine.getHostString() + ":" + mine.getPort()).getBytes(StandardCharsets.UTF_8);
                buffer.write(0, text, 0, Math.min(text.length, ADDRESS_BYTES - 1));
            }
            mpi.broadcast(buffer, ADDRESS_BYTES, 0);
            return LaunchEnvironment.address(buffer.getString(0, StandardCharsets.UTF_8.name()), "rank 0's rendezvous address");
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
