package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.jni.TensorMemory;

/**
 * Stateless activations and normalisations with PyTorch's exact definitions. The normalisations
 * and the softmax compute in fp32 and return fp32 whatever their input's type, as PyTorch's
 * autocast runs them: an fp16 model keeps only its matrix products in fp16 (see {@link Precision}).
 */
public final class Functions {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    private Functions() {}

    /** SiLU (swish): {@code x * sigmoid(x)}. */
    public static NDArray silu(NDArray x) {
        return x.mul(x.getNDArrayInternal().sigmoid());
    }

    /** GELU with the tanh approximation ({@code approximate='tanh'}). */
    public static NDArray geluTanh(NDArray x) {
        NDArray cube = x.mul(x).mul(x);
        NDArray inner = scale(x.add(scale(cube, 0.044715)), SQRT_2_OVER_PI);
        return scale(x.mul(inner.tanh().add(1)), 0.5);
    }

    /**
     * {@code x * factor}, safe under autograd (see {@link Tensors#scalar}): every differentiable
     * multiplication by a constant goes through here.
     */
    public static NDArray scale(NDArray x, double factor) {
        return x.mul(Tensors.scalar(x, factor));
    }

    /** Layer norm over the last axis without affine parameters, in fp32. */
    public static NDArray layerNorm(NDArray x, float eps) {
        x = fp32(x);
        NDArray mean = x.mean(new int[] {-1}, true);
        NDArray centred = x.sub(mean);
        NDArray var = centred.square().mean(new int[] {-1}, true);
        return centred.div(var.add(eps).sqrt());
    }

    /** Divides by the L2 norm over the last axis, as {@code F.normalize(x, dim=-1)} (eps 1e-12), in fp32. */
    public static NDArray l2Normalize(NDArray x) {
        x = fp32(x);
        return x.div(x.square().sum(new int[] {-1}, true).sqrt().maximum(Tensors.scalar(x, 1e-12)));
    }

    /** Softmax over {@code axis} computed and returned in fp32 (fused with the up-cast of an fp16 input). */
    public static NDArray softmax(NDArray x, int axis) {
        if (x.getDataType() == DataType.FLOAT32) {
            return x.softmax(axis);
        }
        return JniUtils.softmax((PtNDArray) x, axis, DataType.FLOAT32);
    }

    /** {@code x} as fp32 (itself when it is), differentiable: see {@link #cast}. */
    public static NDArray fp32(NDArray x) {
        return cast(x, DataType.FLOAT32);
    }

    /**
     * {@code x} in {@code type} (itself when it is). While gradients are recorded the cast is an
     * autograd step, so gradients flow back through it into {@code x}'s type: DJL's {@code toType}
     * converts under a no-grad guard, and would silently cut the graph of an fp16 model at every
     * fp32 island. Recorded as PyTorch records {@code out.copy_(x)} into a new tensor.
     */
    public static NDArray cast(NDArray x, DataType type) {
        if (x.getDataType() == type) {
            return x;
        }
        if (!JniUtils.isGradMode()) {
            return x.toType(type, false);
        }
        NDArray out = TensorMemory.empty((PtNDManager) x.getManager(), x.getShape(), type, x.getDevice());
        out.set(new NDIndex("..."), x);
        return out;
    }
}
