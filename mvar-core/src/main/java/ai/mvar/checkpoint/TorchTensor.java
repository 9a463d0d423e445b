package ai.mvar.checkpoint;

import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * A tensor as a pickle describes it: a strided window onto a {@link TorchStorage}. Nothing is read
 * until a {@link TorchCheckpoint} materialises it. The window is checked to lie inside the storage
 * when it is built, so a hostile pickle cannot make a reader look outside it.
 */
public final class TorchTensor {
    private final TorchStorage storage;
    private final long offset;
    private final long[] shape;
    private final long[] stride;
    private final long numel;

    private TorchTensor(TorchStorage storage, long offset, long[] shape, long[] stride, long numel) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.stride = stride;
        this.numel = numel;
    }

    /**
     * Validates a tensor the way {@code torch._utils._rebuild_tensor} would build it.
     *
     * @throws IllegalArgumentException when dimensions or strides are negative, disagree in number,
     *     overflow, or reach outside the storage
     */
    static TorchTensor of(TorchStorage storage, long offset, long[] shape, long[] stride) {
        if (shape.length != stride.length) {
            throw new IllegalArgumentException("tensor has " + shape.length + " dimensions but "
                    + stride.length + " strides");
        }
        if (offset < 0) {
            throw new IllegalArgumentException("negative storage offset " + offset);
        }
        long numel = 1;
        long lastElement = offset;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0 || stride[i] < 0) {
                throw new IllegalArgumentException("negative size or stride in " + Arrays.toString(shape)
                        + " / " + Arrays.toString(stride));
            }
            numel = Math.multiplyExact(numel, shape[i]);
            if (shape[i] > 0) {
                lastElement = Math.addExact(lastElement, Math.multiplyExact(shape[i] - 1, stride[i]));
            }
        }
        if (numel > 0 && lastElement >= storage.numel()) {
            throw new IllegalArgumentException("tensor " + Arrays.toString(shape) + " at offset " + offset
                    + " with strides " + Arrays.toString(stride) + " reaches element " + lastElement
                    + " of a storage of " + storage.numel());
        }
        return new TorchTensor(storage, offset, shape.clone(), stride.clone(), numel);
    }

    public TorchStorage storage() {
        return storage;
    }

    public SafeTensorsDType dtype() {
        return storage.dtype();
    }

    /** Offset of the first element in the storage, in elements. */
    public long offset() {
        return offset;
    }

    public Shape shape() {
        return new Shape(shape);
    }

    public long[] stride() {
        return stride.clone();
    }

    public long numel() {
        return numel;
    }

    public long byteSize() {
        return numel * dtype().bytes();
    }

    /** True when the elements lie in row-major order without gaps (strides of size-1 dimensions do not matter). */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return numel == 0;
            }
            expected *= shape[i];
        }
        return true;
    }

    long[] rawShape() {
        return shape;
    }

    long[] rawStride() {
        return stride;
    }

    @Override
    public String toString() {
        return dtype() + " " + Arrays.toString(shape) + (isContiguous() ? "" : " strided");
    }
}
