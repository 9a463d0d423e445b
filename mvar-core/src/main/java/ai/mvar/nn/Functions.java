package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.jni.TensorMemory;

/**
 * Stateless activations and normalisations with PyTorch's exact definitions. The normalisations
 * and the softmax compute in fp32 and return fp32 whatever their input's type, as PyTorch's
 * autocast runs them: an fp16 model keeps only its matrix products in fp16 (see {@link Precision}).
 *
 * <p>Memory: an engine operation's result lives until it is closed (or its scope ends), not until
 * its last use as in PyTorch, so a function composed of many operations would hold every
 * intermediate at once. The normalisations are therefore the engine's fused operations, and when
 * no gradients are recorded GELU and the {@code *Consuming} helpers work in place.
 */
public final class Functions {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    private Functions() {}

    /** SiLU (swish): {@code x * sigmoid(x)}. */
    public static NDArray silu(NDArray x) {
        return x.mul(x.getNDArrayInternal().sigmoid());
    }

    /**
     * GELU with the tanh approximation ({@code approximate='tanh'}). Without gradient recording
     * it holds two arrays of x's size instead of nine (the same operations in the same order, so
     * the same bits).
     */
    public static NDArray geluTanh(NDArray x) {
        if (recording()) {
            NDArray cube = x.mul(x).mul(x);
            NDArray inner = scale(x.add(scale(cube, 0.044715)), SQRT_2_OVER_PI);
            return scale(x.mul(inner.tanh().add(1)), 0.5);
        }
        NDArray inner = x.mul(x);
        inner.muli(x).muli(Tensors.scalar(x, 0.044715)).addi(x).muli(Tensors.scalar(x, SQRT_2_OVER_PI));
        NDArray out = inner.tanh();
        inner.close();
        return out.addi(Tensors.scalar(x, 1)).muli(x).muli(Tensors.scalar(x, 0.5));
    }

    /** Whether autograd records operations (training); if not, temporaries may be reused in place. */
    public static boolean recording() {
        return JniUtils.isGradMode();
    }

    /**
     * {@code a * b} for a temporary {@code a} that the caller hands over (and must not use again):
     * computed in {@code a}'s memory when no gradients are recorded and the product keeps a's type
     * and shape, otherwise into a new array, {@code a} being closed.
     */
    public static NDArray mulConsuming(NDArray a, NDArray b) {
        if (inPlace(a, b)) {
            return a.muli(b);
        }
        NDArray out = a.mul(b);
        a.close();
        return out;
    }

    /** {@code a + b}, consuming {@code a} as {@link #mulConsuming} does. */
    public static NDArray addConsuming(NDArray a, NDArray b) {
        if (inPlace(a, b)) {
            return a.addi(b);
        }
        NDArray out = a.add(b);
        a.close();
        return out;
    }

    private static boolean inPlace(NDArray a, NDArray b) {
        DataType ta = a.getDataType();
        DataType tb = b.getDataType();
        boolean keepsType = ta == tb || (ta == DataType.FLOAT32 && tb.isFloating());
        return !recording() && keepsType && broadcastsInto(b.getShape(), a.getShape());
    }

    private static boolean broadcastsInto(Shape from, Shape to) {
        int offset = to.dimension() - from.dimension();
        if (offset < 0) {
            return false;
        }
        for (int i = 0; i < from.dimension(); i++) {
            if (from.get(i) != 1 && from.get(i) != to.get(offset + i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code x * factor}, safe under autograd (see {@link Tensors#scalar}): every differentiable
     * multiplication by a constant goes through here.
     */
    public static NDArray scale(NDArray x, double factor) {
        return x.mul(Tensors.scalar(x, factor));
    }

    /** Layer norm over the last axis without affine parameters, in fp32 (PyTorch's fused layer norm). */
    public static NDArray layerNorm(NDArray x, float eps) {
        NDArray in = fp32(x);
        long width = in.getShape().get(in.getShape().dimension() - 1);
        try (NDArray gain = in.getManager().ones(new Shape(width));
                NDArray bias = in.getManager().zeros(new Shape(width))) {
            return JniUtils.layerNorm((PtNDArray) in, new Shape(width), (PtNDArray) gain, (PtNDArray) bias, eps);
        } finally {
            closeIfDistinct(in, x);
        }
    }

    /** Divides by the L2 norm over the last axis in fp32: {@code F.normalize(x, dim=-1)} (eps 1e-12) itself. */
    public static NDArray l2Normalize(NDArray x) {
        NDArray in = fp32(x);
        try {
            return JniUtils.normalize((PtNDArray) in, 2, -1, 1e-12);
        } finally {
            closeIfDistinct(in, x);
        }
    }

    /**
     * Closes {@code temporary} unless it is {@code kept} itself (a conversion or scaling that
     * returned its input). Safe while gradients are recorded: autograd keeps what it needs.
     */
    public static void closeIfDistinct(NDArray temporary, NDArray kept) {
        if (temporary != kept) {
            temporary.close();
        }
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
        if (!recording()) {
            return x.toType(type, false);
        }
        NDArray out = TensorMemory.empty((PtNDManager) x.getManager(), x.getShape(), type, x.getDevice());
        out.set(new NDIndex("..."), x);
        return out;
    }
}
