package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Arrays made from Java data that own their native memory.
 *
 * <p>DJL's PyTorch engine wraps a Java buffer without copying it, and only the Java handle keeps
 * that buffer alive. Autograd, however, keeps its own reference to the tensors a backward pass
 * needs (resampling matrices, gather indices, labels): once the handle is closed the buffer can be
 * collected under it, and the gradients read freed memory. A native copy is owned by the tensor.
 */
public final class Tensors {
    private Tensors() {}

    /**
     * A 0-d tensor of {@code value} with the type and device of {@code like}, created natively.
     * Use it instead of {@code x.mul(number)}: DJL wraps the number in a Java buffer that it frees
     * right after the operation, while autograd may still need the number for the backward pass.
     */
    public static NDArray scalar(NDArray like, double value) {
        return like.getManager().full(new Shape(), (float) value, like.getDataType());
    }

    public static NDArray of(NDManager manager, float[] data, Shape shape) {
        try (NDArray wrapped = manager.create(data, shape)) {
            return wrapped.duplicate();
        }
    }

    public static NDArray of(NDManager manager, long[] data, Shape shape) {
        try (NDArray wrapped = manager.create(data, shape)) {
            return wrapped.duplicate();
        }
    }

    public static NDArray of(NDManager manager, long[] data) {
        return of(manager, data, new Shape(data.length));
    }
}
