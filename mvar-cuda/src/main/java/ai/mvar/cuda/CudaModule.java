package ai.mvar.cuda;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The neighbourhood-attention PTX loaded into one device's primary context ({@link CudaDevice})
 * through the JCuda driver API. Loading happens once per device; when it fails (no driver, no
 * device, a driver too old for the PTX) one warning is logged for the whole process, {@link
 * CudaNeighbourhoodKernel} claims no arrays, and {@code NeighbourhoodAttention} runs its portable
 * kernels (engine operations on the arrays' own device, the GPU included).
 */
public final class CudaModule {
    private static final Logger LOG = LoggerFactory.getLogger(CudaModule.class);
    private static final Map<Integer, Optional<CudaModule>> LOADED = new ConcurrentHashMap<>();
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private final CudaDevice device;
    private final String architecture;
    private final Map<String, CUfunction> functions;

    private CudaModule(CudaDevice device, String architecture, Map<String, CUfunction> functions) {
        this.device = device;
        this.architecture = architecture;
        this.functions = functions;
    }

    /** The module on device {@code ordinal}, or empty (after one process-wide warning). */
    public static Optional<CudaModule> forDevice(int ordinal) {
        return LOADED.computeIfAbsent(ordinal, CudaModule::tryLoad);
    }

    private static Optional<CudaModule> tryLoad(int ordinal) {
        try {
            return Optional.of(load(ordinal));
        } catch (RuntimeException | LinkageError e) {
            // LinkageError: JCuda's native library needs libcuda.so, absent without a driver.
            if (WARNED.compareAndSet(false, true)) {
                LOG.warn("CUDA neighbourhood-attention kernel unavailable on device {} ({}); using the portable"
                        + " engine kernels", ordinal, reason(e));
                LOG.debug("CUDA load failure in full", e);
            }
            return Optional.empty();
        }
    }

    /** One line: JCuda's link errors carry pages of nested stack traces in their message. */
    public static String reason(Throwable e) {
        String message = String.valueOf(e.getMessage());
        if (e instanceof LinkageError && message.contains("libcuda.so")) {
            return "no NVIDIA driver: libcuda.so.1 cannot be loaded";
        }
        return e.getClass().getSimpleName() + ": " + message.lines().findFirst().orElse("");
    }

    private static CudaModule load(int ordinal) {
        CudaDevice device = CudaDevice.open(ordinal);
        int[] cc = device.computeCapability();
        int major = cc[0];
        int minor = cc[1];
        String arch = PtxImage.architectureFor(major, minor).orElseThrow(() -> new IllegalStateException(
                "compute capability " + major + "." + minor + " is below 8.0, the oldest compiled PTX"));
        device.makeCurrent();
        CUmodule module = new CUmodule();
        try {
            JCudaDriver.cuModuleLoadData(module, PtxImage.load(arch));
        } catch (RuntimeException e) {
            throw new IllegalStateException("the driver could not load the " + arch + " PTX (built by nvcc 13,"
                    + " PTX ISA 9.0: needs a CUDA 13 driver, r580 or newer): " + e.getMessage(), e);
        }
        Map<String, CUfunction> functions = new HashMap<>();
        for (Precision precision : Precision.values()) {
            for (int headDim : NaGeometry.HEAD_DIMS) {
                for (KernelEntry entry : KernelEntry.values()) {
                    if (!entry.supports(precision)) {
                        continue;
                    }
                    String name = entry.functionName(precision, headDim);
                    CUfunction f = new CUfunction();
                    JCudaDriver.cuModuleGetFunction(f, module, name);
                    if (entry == KernelEntry.FORWARD_TILED) {
                        // Above 48 KB of dynamic shared memory a launch needs this opt-in.
                        JCudaDriver.cuFuncSetAttribute(f,
                                CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                NaTile.MAX_SHARED_BYTES);
                        // All of the unified L1/shared storage as shared memory (percent; a hint):
                        // the kernel bypasses L1, and its occupancy is bounded by shared memory.
                        JCudaDriver.cuFuncSetAttribute(f,
                                CUfunction_attribute.CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, 100);
                    }
                    functions.put(name, f);
                }
            }
        }
        LOG.info("CUDA neighbourhood attention: {} PTX loaded on device {} (compute capability {}.{})",
                arch, ordinal, major, minor);
        return new CudaModule(device, arch, Map.copyOf(functions));
    }

    public int ordinal() {
        return device.ordinal();
    }

    public String architecture() {
        return architecture;
    }

    /** Makes the primary context current on the calling thread (contexts are per thread). */
    void makeCurrent() {
        device.makeCurrent();
    }

    CUfunction function(String name) {
        CUfunction f = functions.get(name);
        if (f == null) {
            throw new IllegalArgumentException("no kernel " + name);
        }
        return f;
    }

    /** Waits for all work of this device's primary context, e.g. before reading results on the host. */
    public void synchronize() {
        device.synchronize();
    }
}
