package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.mvar.attention.NeighbourhoodKernelProvider;
import ai.mvar.nn.Torch;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Registration, and declining every array where CUDA cannot load (this test's home: machines
 * without a GPU), so that {@code NeighbourhoodAttention} takes its portable kernels.
 */
class CudaFallbackTest {

    @Test
    void providerIsRegisteredForTheServiceLoader() {
        List<Class<?>> providers = ServiceLoader.load(NeighbourhoodKernelProvider.class).stream()
                .map(ServiceLoader.Provider::type)
                .collect(Collectors.toList());
        assertTrue(providers.contains(CudaNeighbourhoodKernelProvider.class), providers.toString());
    }

    @Test
    void withoutCudaTheProviderDeclinesWithoutThrowing() {
        assumeFalse(CudaModule.forDevice(0).isPresent(), "CUDA is available here");
        assertTrue(new CudaNeighbourhoodKernelProvider().kernel().isEmpty());
        assertTrue(new CudaNeighbourhoodKernelProvider().kernel().isEmpty(), "asking again is harmless");
    }

    @Test
    void cpuTensorsAreNeverClaimed() {
        try (NDManager manager = Torch.newManager()) {
            NDArray q = manager.zeros(new Shape(1, 2, 16, 64), DataType.FLOAT32);
            CudaNeighbourhoodKernel kernel = new CudaNeighbourhoodKernel();
            assertFalse(kernel.supports(q));
            assertEquals("cuda-fused", kernel.name());
            assertFalse(kernel.differentiable(), "no autograd history: never chosen while gradients are recorded");
        }
    }
}
