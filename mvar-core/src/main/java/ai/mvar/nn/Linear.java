package ai.mvar.nn;

import ai.djl.ndarray.NDArray;

/**
 * {@code torch.nn.Linear}: weight {@code [out, in]}, optional bias. The input is cast to the
 * weight's type first, as autocast casts a matrix product's inputs: an fp16 layer takes the fp32
 * residual stream and returns fp16.
 */
public final class Linear {
    private final NDArray weight;
    private final NDArray bias;

    public Linear(Params p, int in, int out, boolean withBias) {
        this.weight = p.get("weight", Params.Init.NORMAL, out, in);
        this.bias = withBias ? p.get("bias", Params.Init.ZEROS, out) : null;
    }

    public NDArray forward(NDArray x) {
        x = Functions.cast(x, weight.getDataType());
        return bias == null
                ? ai.djl.nn.core.Linear.linear(x, weight).singletonOrThrow()
                : ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
    }

    public NDArray weight() {
        return weight;
    }
}
