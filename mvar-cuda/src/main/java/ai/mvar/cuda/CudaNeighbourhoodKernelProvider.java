package ai.mvar.cuda;

import ai.mvar.attention.NeighbourhoodKernel;
import ai.mvar.attention.NeighbourhoodKernelProvider;
import java.util.Optional;

/**
 * Contributes {@link CudaNeighbourhoodKernel} to mvar-core when the PTX loads on the first CUDA
 * device; registered in {@code META-INF/services}. Other devices load lazily on first use.
 */
public final class CudaNeighbourhoodKernelProvider implements NeighbourhoodKernelProvider {

    @Override
    public Optional<NeighbourhoodKernel> kernel() {
        return CudaModule.forDevice(0).map(m -> new CudaNeighbourhoodKernel());
    }
}
