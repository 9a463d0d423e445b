package ai.mvar.attention;

import java.util.Optional;

/**
 * Extension point through which an accelerator module (such as {@code mvar-cuda}) contributes a
 * {@link NeighbourhoodKernel}; found with {@link java.util.ServiceLoader}.
 */
public interface NeighbourhoodKernelProvider {

    /** The kernel, or empty when this provider cannot run here (no driver, no device). */
    Optional<NeighbourhoodKernel> kernel();
}
