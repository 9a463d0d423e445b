package ai.djl.pytorch.jni;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;

/**
 * Bridge to the package-private {@link PyTorchLibrary} (hence this package): the data address of
 * a tensor without copying it. For a GPU tensor the address is a device pointer of the CUDA
 * primary context; the direct buffer that carries it is never read from Java.
 */
public final class TensorMemory {
    private TensorMemory() {}

    /** Address of the first element of a contiguous tensor (host or device memory). */
    public static long dataAddress(PtNDArray array) {
        if (!isContiguous(array)) {
            throw new IllegalArgumentException("tensor is not contiguous; call contiguous() first");
        }
        ByteBuffer buffer = PyTorchLibrary.LIB.torchDirectByteBuffer(array.getHandle());
        return Pointer.nativeValue(Native.getDirectBufferPointer(buffer));
    }

    public static boolean isContiguous(PtNDArray array) {
        return PyTorchLibrary.LIB.torchIsContiguous(array.getHandle());
    }

    /** The tensor itself when contiguous, else a contiguous copy attached to {@code manager}. */
    public static PtNDArray contiguous(PtNDArray array, PtNDManager manager) {
        if (isContiguous(array)) {
            return array;
        }
        return new PtNDArray(manager, PyTorchLibrary.LIB.torchToContiguous(array.getHandle()));
    }

    /** An uninitialised tensor ({@code torch.empty}): for outputs a kernel overwrites entirely. */
    public static PtNDArray empty(PtNDManager manager, Shape shape, DataType type, Device device) {
        return JniUtils.createEmptyNdArray(manager, shape, type, device, SparseFormat.DENSE);
    }
}
