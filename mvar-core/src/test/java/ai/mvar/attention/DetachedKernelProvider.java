package ai.mvar.attention;

import ai.djl.ndarray.NDArray;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for the CUDA kernel on the CPU, registered in this module's test {@code
 * META-INF/services} exactly as {@code mvar-cuda} registers its provider: a fused kernel whose
 * output has no autograd history (computed tiled, then detached). It claims arrays only while a
 * test switches it on, so the other tests never meet it.
 */
public final class DetachedKernelProvider implements NeighbourhoodKernelProvider {
    static final AtomicBoolean ENABLED = new AtomicBoolean();
    static final AtomicInteger CALLS = new AtomicInteger();

    static final NeighbourhoodKernel KERNEL = new NeighbourhoodKernel() {
        @Override
        public NDArray forward(NDArray q, NDArray k, NDArray v, int side, int kernelSize, float scale) {
            CALLS.incrementAndGet();
            return TiledNeighbourhoodKernel.INSTANCE.forward(q, k, v, side, kernelSize, scale).stopGradient();
        }

        @Override
        public boolean supports(NDArray q) {
            return ENABLED.get() && q.getDevice().equals(ai.djl.Device.cpu());
        }

        @Override
        public String name() {
            return "detached-test";
        }
    };

    @Override
    public Optional<NeighbourhoodKernel> kernel() {
        return Optional.of(KERNEL);
    }
}
