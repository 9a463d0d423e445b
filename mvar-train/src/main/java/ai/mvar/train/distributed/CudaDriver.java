package ai.mvar.train.distributed;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The few CUDA driver calls NCCL needs around it, through JNA ({@code libcuda.so.1}, present
 * wherever the NVIDIA driver is): making a device's <em>primary</em> context current on the calling
 * thread (the context PyTorch's runtime uses, so NCCL's communicator and PyTorch's tensors share
 * it), and events to learn, without blocking, when work queued on PyTorch's stream has finished.
 *
 * <p>PyTorch's current stream, unless code sets another, is the legacy default stream, handle
 * {@code NULL} ({@link #DEFAULT_STREAM}); DJL never sets another, so collectives queued there run
 * in order with the kernels that produce and consume the gradients.
 */
final class CudaDriver {
    static final Pointer DEFAULT_STREAM = null;
    private static final int CUDA_ERROR_NOT_READY = 600;
    private static final int CU_EVENT_DISABLE_TIMING = 2;

    /** The C functions, named as in cuda.h (with the versioned names its macros expand to). */
    interface Api extends Library {
        int cuInit(int flags);

        int cuDeviceGet(IntByReference device, int ordinal);

        int cuDevicePrimaryCtxRetain(PointerByReference context, int device);

        int cuCtxSetCurrent(Pointer context);

        int cuEventCreate(PointerByReference event, int flags);

        int cuEventRecord(Pointer event, Pointer stream);

        int cuEventQuery(Pointer event);

        int cuEventDestroy_v2(Pointer event);

        int cuGetErrorString(int error, PointerByReference text);
    }

    private static CudaDriver instance;

    private final Api api;

    private CudaDriver(Api api) {
        this.api = api;
    }

    static synchronized CudaDriver get() {
        if (instance == null) {
            UnsatisfiedLinkError failure = null;
            // containers often mount only the versioned name
            for (String name : new String[] {"cuda", "libcuda.so.1"}) {
                try {
                    instance = new CudaDriver(Native.load(name, Api.class));
                    break;
                } catch (UnsatisfiedLinkError e) {
                    failure = e;
                }
            }
            if (instance == null) {
                throw new IllegalStateException("no NVIDIA driver: libcuda.so.1 cannot be loaded ("
                        + failure.getMessage().lines().findFirst().orElse("") + ")", failure);
            }
            instance.check(instance.api.cuInit(0), "cuInit");
        }
        return instance;
    }

    /** Device {@code ordinal}'s primary context, retained for the life of the process (as the runtime does). */
    Pointer primaryContext(int ordinal) {
        IntByReference device = new IntByReference();
        check(api.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        PointerByReference context = new PointerByReference();
        check(api.cuDevicePrimaryCtxRetain(context, device.getValue()), "cuDevicePrimaryCtxRetain");
        return context.getValue();
    }

    /** Makes {@code context} current on the calling thread: NCCL and the events below work in the current one. */
    void makeCurrent(Pointer context) {
        check(api.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** An event recorded on the default stream now: it completes when the work queued before it does. */
    Pointer recordEvent() {
        PointerByReference event = new PointerByReference();
        check(api.cuEventCreate(event, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        check(api.cuEventRecord(event.getValue(), DEFAULT_STREAM), "cuEventRecord");
        return event.getValue();
    }

    /** Whether the work before {@code event} has completed; never blocks. */
    boolean completed(Pointer event) {
        int code = api.cuEventQuery(event);
        if (code == CUDA_ERROR_NOT_READY) {
            return false;
        }
        check(code, "cuEventQuery");
        return true;
    }

    void destroy(Pointer event) {
        api.cuEventDestroy_v2(event);
    }

    private void check(int code, String call) {
        if (code != 0) {
            PointerByReference text = new PointerByReference();
            String message = api.cuGetErrorString(code, text) == 0 && text.getValue() != null
                    ? text.getValue().getString(0) : "error " + code;
            throw new IllegalStateException(call + " failed: " + message);
        }
    }
}
