package ai.mvar.nn;

import ai.djl.ndarray.NDArray;

/** Stateless activations and normalisations with PyTorch's exact definitions. */
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

    /** Layer norm over the last axis without affine parameters. */
    public static NDArray layerNorm(NDArray x, float eps) {
        NDArray mean = x.mean(new int[] {-1}, true);
        NDArray centred = x.sub(mean);
        NDArray var = centred.square().mean(new int[] {-1}, true);
        return centred.div(var.add(eps).sqrt());
    }

    /** Divides by the L2 norm over the last axis, as {@code F.normalize(x, dim=-1)} (eps 1e-12). */
    public static NDArray l2Normalize(NDArray x) {
        return x.div(x.square().sum(new int[] {-1}, true).sqrt().maximum(Tensors.scalar(x, 1e-12)));
    }
}
