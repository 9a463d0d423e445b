package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code mvar doctor} where the tests run: the CPU libtorch, no GPU required. */
class DoctorCommandTest {

    @Test
    void namesTheLibtorchItLoadedAndTheDriver() {
        Cli.Result r = Cli.run("doctor").ok();
        assertTrue(r.out().matches("(?s).*libtorch 2\\.7\\.1, (CPU|CUDA) build, from /.*"), r.out());
        assertTrue(r.out().contains("JNI /") && r.out().contains("libdjl_torch.so"), r.out());
        assertTrue(r.out().contains("GPUs the engine sees: "), r.out());
        assertTrue(r.out().contains("NVIDIA driver: "), r.out());
        assertTrue(r.out().contains("default precision fp"), r.out());
    }
}
