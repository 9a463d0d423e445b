package ai.mvar.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Who a process is in a job, read from the variables mpirun, srun, torchrun and mvar's own launcher set. */
class LaunchEnvironmentTest {
    @Test
    void noLauncherMeansOneProcess() {
        assertEquals(Optional.empty(), LaunchEnvironment.detect(Map.of("HOME", "/root")));
    }

    @Test
    void mpirunAloneMakesRankZeroHostTheRendezvous() {
        LaunchEnvironment e = LaunchEnvironment.detect(Map.of("OMPI_COMM_WORLD_SIZE", "4", "OMPI_COMM_WORLD_RANK", "0",
                "OMPI_COMM_WORLD_LOCAL_RANK", "0")).orElseThrow();
        assertEquals(new LaunchEnvironment(0, 4, 0, "mpirun", true, Optional.empty(), true), e);
        LaunchEnvironment other = LaunchEnvironment.detect(Map.of("OMPI_COMM_WORLD_SIZE", "4", "OMPI_COMM_WORLD_RANK", "3",
                "OMPI_COMM_WORLD_LOCAL_RANK", "1")).orElseThrow();
        assertEquals(1, other.localRank());
        assertFalse(other.hostsRendezvous(), "rank 0 sends its address to the others over MPI");
    }

    @Test
    void srunFindsRankZeroAtMasterAddr() {
        LaunchEnvironment e = LaunchEnvironment.detect(Map.of("SLURM_STEP_NUM_TASKS", "32", "SLURM_PROCID", "9",
                "SLURM_LOCALID", "1", "MASTER_ADDR", "node0", "MASTER_PORT", "29500")).orElseThrow();
        assertEquals(new LaunchEnvironment(9, 32, 1, "srun", false, Optional.of(InetSocketAddress.createUnresolved("node0",
                29500)), false), e);
        assertTrue(LaunchEnvironment.detect(Map.of("SLURM_STEP_NUM_TASKS", "2", "SLURM_PROCID", "0", "SLURM_LOCALID", "0",
                "PMIX_RANK", "0")).orElseThrow().mpi(), "srun --mpi=pmix starts an MPI job");
    }

    @Test
    void torchrunsAgentKeepsMasterPortSoTheRendezvousTakesTheNext() {
        Map<String, String> env = Map.of("RANK", "0", "WORLD_SIZE", "16", "LOCAL_RANK", "0", "MASTER_ADDR", "host0",
                "MASTER_PORT", "29500", "TORCHELASTIC_USE_AGENT_STORE", "True");
        LaunchEnvironment e = LaunchEnvironment.detect(env).orElseThrow();
        assertEquals("torchrun", e.launcher());
        assertEquals(Optional.of(InetSocketAddress.createUnresolved("host0", 29501)), e.rendezvous());
        assertTrue(e.hostsRendezvous());
        assertFalse(e.mpi());
    }

    @Test
    void mvarsLauncherServesTheRendezvousItself() {
        LaunchEnvironment e = LaunchEnvironment.detect(Map.of("RANK", "0", "WORLD_SIZE", "2", "LOCAL_RANK", "0",
                LaunchEnvironment.RENDEZVOUS_VARIABLE, "127.0.0.1:4711")).orElseThrow();
        assertEquals("mvar", e.launcher());
        assertEquals(Optional.of(InetSocketAddress.createUnresolved("127.0.0.1", 4711)), e.rendezvous());
        assertFalse(e.hostsRendezvous());
    }

    @Test
    void badVariablesAreNamed() {
        assertMessage("MASTER_ADDR and MASTER_PORT", Map.of("RANK", "1", "WORLD_SIZE", "2"));
        assertMessage("WORLD_SIZE must be a number, got 'two'", Map.of("RANK", "1", "WORLD_SIZE", "two"));
        assertMessage("the launcher did not set OMPI_COMM_WORLD_RANK", Map.of("OMPI_COMM_WORLD_SIZE", "2"));
        assertMessage("gave rank 2 of 2", Map.of("RANK", "2", "WORLD_SIZE", "2", LaunchEnvironment.RENDEZVOUS_VARIABLE,
                "h:1"));
        assertMessage(LaunchEnvironment.RENDEZVOUS_VARIABLE + " must be host:port, got 'nowhere'", Map.of("RANK", "0",
                "WORLD_SIZE", "2", LaunchEnvironment.RENDEZVOUS_VARIABLE, "nowhere"));
    }

    private static void assertMessage(String expected, Map<String, String> env) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LaunchEnvironment.detect(env));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
