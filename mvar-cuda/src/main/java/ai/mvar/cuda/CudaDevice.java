package ai.mvar.cuda;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * One CUDA device through the driver API, with its <em>primary</em> context: the one the CUDA
 * runtime, hence PyTorch, uses, so device pointers of the engine's tensors are valid in it and no
 * second context competes for memory. The context is retained once, for the life of the process.
 */
public final class CudaDevice {
    private static final Map<Integer, CudaDevice> OPEN = new ConcurrentHashMap<>();

    private final int ordinal;
    private final CUdevice device;
    private final CUcontext context;

    private CudaDevice(int ordinal, CUdevice device, CUcontext context) {
        this.ordinal = ordinal;
        this.device = device;
        this.context = context;
    }

    /**
     * Device {@code ordinal} with its primary context retained.
     *
     * @throws RuntimeException when the driver reports an error (no such device)
     * @throws LinkageError when JCuda's native library cannot load (no NVIDIA driver)
     */
    public static CudaDevice open(int ordinal) {
        return OPEN.computeIfAbsent(ordinal, o -> {
            init();
            CUdevice device = new CUdevice();
            JCudaDriver.cuDeviceGet(device, o);
            CUcontext context = new CUcontext();
            JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
            return new CudaDevice(o, device, context);
        });
    }

    /** How many devices the driver sees. */
    public static int count() {
        init();
        int[] n = new int[1];
        JCudaDriver.cuDeviceGetCount(n);
        return n[0];
    }

    /** The driver's CUDA version as {@code major.minor} (e.g. 13.0). */
    public static String driverVersion() {
        init();
        int[] v = new int[1];
        JCudaDriver.cuDriverGetVersion(v);
        return v[0] / 1000 + "." + v[0] % 1000 / 10;
    }

    private static void init() {
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuInit(0);
    }

    public int ordinal() {
        return ordinal;
    }

    public String name() {
        byte[] name = new byte[256];
        JCudaDriver.cuDeviceGetName(name, name.length, device);
        int end = 0;
        while (end < name.length && name[end] != 0) {
            end++;
        }
        return new String(name, 0, end, StandardCharsets.US_ASCII);
    }

    /** {@code {major, minor}}. */
    public int[] computeCapability() {
        return new int[] {attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
            attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)};
    }

    /** {@code {free, total}} bytes of the whole device, as the driver reports them ({@code cuMemGetInfo}). */
    public long[] memory() {
        makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    /** Waits for all work of the primary context (every stream, the engine's included). */
    public void synchronize() {
        makeCurrent();
        JCudaDriver.cuCtxSynchronize();
    }

    /** Makes the primary context current on the calling thread (contexts are per thread). */
    void makeCurrent() {
        JCudaDriver.cuCtxSetCurrent(context);
    }

    private int attribute(int attribute) {
        int[] value = new int[1];
        JCudaDriver.cuDeviceGetAttribute(value, attribute, device);
        return value[0];
    }
}
