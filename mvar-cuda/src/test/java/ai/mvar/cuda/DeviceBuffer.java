package ai.mvar.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUpointer_attribute;
import jcuda.driver.JCudaDriver;

/**
 * Device memory from cuMemAlloc in the primary context: the GPU tests drive the kernels without
 * DJL's GPU engine, which need not match the PyTorch of a test machine.
 */
final class DeviceBuffer implements AutoCloseable {
    final CUdeviceptr pointer = new CUdeviceptr();
    final long bytes;
    final long address;

    private DeviceBuffer(long bytes) {
        this.bytes = bytes;
        JCudaDriver.cuMemAlloc(pointer, bytes);
        long[] a = new long[1];
        JCudaDriver.cuPointerGetAttribute(Pointer.to(a), CUpointer_attribute.CU_POINTER_ATTRIBUTE_DEVICE_POINTER, pointer);
        address = a[0];
    }

    /** The module on device 0, or the test is skipped (no driver or GPU here). */
    static CudaModule module() {
        var module = CudaModule.forDevice(0);
        assumeTrue(module.isPresent(), "no CUDA device: GPU test skipped");
        module.get().makeCurrent();
        return module.get();
    }

    static DeviceBuffer allocate(long bytes) {
        return new DeviceBuffer(bytes);
    }

    /** Uploads values in the given storage type. */
    static DeviceBuffer of(double[] values, Precision precision) {
        DeviceBuffer b = new DeviceBuffer((long) values.length * precision.bytes());
        if (precision == Precision.F32) {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) values[i];
            }
            JCudaDriver.cuMemcpyHtoD(b.pointer, Pointer.to(f), b.bytes);
        } else {
            short[] h = new short[values.length];
            for (int i = 0; i < h.length; i++) {
                h[i] = Half.fromFloat((float) values[i]);
            }
            JCudaDriver.cuMemcpyHtoD(b.pointer, Pointer.to(h), b.bytes);
        }
        return b;
    }

    /** All bytes 0xFF: NaN in fp32 and fp16, so an element a kernel skipped cannot pass. */
    DeviceBuffer poison() {
        JCudaDriver.cuMemsetD8(pointer, (byte) 0xFF, bytes);
        return this;
    }

    /** Waits for the default stream's work (the copy is synchronous) and reads values back. */
    double[] download(Precision precision) {
        int n = (int) (bytes / precision.bytes());
        double[] out = new double[n];
        if (precision == Precision.F32) {
            float[] f = new float[n];
            JCudaDriver.cuMemcpyDtoH(Pointer.to(f), pointer, bytes);
            for (int i = 0; i < n; i++) {
                out[i] = f[i];
            }
        } else {
            short[] h = new short[n];
            JCudaDriver.cuMemcpyDtoH(Pointer.to(h), pointer, bytes);
            for (int i = 0; i < n; i++) {
                out[i] = Half.toFloat(h[i]);
            }
        }
        return out;
    }

    @Override
    public void close() {
        JCudaDriver.cuMemFree(pointer);
    }
}
