package ai.mvar.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MVAR's spatial-Markov pattern for one scale's {@code p x p} map: each token sees its k x k
 * neighbourhood (see {@link NeighbourhoodWindow}). Runs on an accelerator kernel contributed
 * through {@link NeighbourhoodKernelProvider} when one supports the arrays, else on {@link
 * TiledNeighbourhoodKernel}.
 */
public final class NeighbourhoodAttention implements AttentionPattern {
    private static final Logger LOG = LoggerFactory.getLogger(NeighbourhoodAttention.class);
    private static volatile List<NeighbourhoodKernel> accelerated;

    private final int side;
    private final int kernelSize;

    public NeighbourhoodAttention(int side, int kernelSize) {
        NeighbourhoodWindow.span(side, kernelSize); // validates the kernel size
        this.side = side;
        this.kernelSize = kernelSize;
    }

    @Override
    public NDArray attend(NDArray q, NDArray k, NDArray v, float scale) {
        return kernelFor(q, kernelSize).forward(q, k, v, side, kernelSize, scale);
    }

    /**
     * The kernel that will run for these arrays: an accelerator's if one supports them (and, while
     * gradients are recorded, is {@linkplain NeighbourhoodKernel#differentiable differentiable}),
     * else the portable {@link TiledNeighbourhoodKernel}, whose tile a cost model chooses.
     */
    public static NeighbourhoodKernel kernelFor(NDArray q, int kernelSize) {
        boolean recording = JniUtils.isGradMode();
        for (NeighbourhoodKernel kernel : acceleratedKernels()) {
            if (kernel.supports(q) && (kernel.differentiable() || !recording)) {
                return kernel;
            }
        }
        return TiledNeighbourhoodKernel.INSTANCE;
    }

    private static List<NeighbourhoodKernel> acceleratedKernels() {
        List<NeighbourhoodKernel> kernels = accelerated;
        if (kernels == null) {
            synchronized (NeighbourhoodAttention.class) {
                if (accelerated == null) {
                    List<NeighbourhoodKernel> found = new ArrayList<>();
                    for (NeighbourhoodKernelProvider provider : ServiceLoader.load(NeighbourhoodKernelProvider.class)) {
                        provider.kernel().ifPresent(kernel -> {
                            LOG.info("neighbourhood attention kernel available: {}", kernel.name());
                            found.add(kernel);
                        });
                    }
                    accelerated = List.copyOf(found);
                }
                kernels = accelerated;
            }
        }
        return kernels;
    }
}
