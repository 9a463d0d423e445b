package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** A 2-D convolution with bias, square kernel, PyTorch weight layout {@code [out, in, k, k]}. */
public final class Conv2d {
    private final NDArray weight;
    private final NDArray bias;
    private final Shape stride;
    private final Shape padding;

    public Conv2d(Params p, int in, int out, int kernel, int stride, int padding) {
        this.weight = p.get("weight", Params.Init.FAN_IN_UNIFORM, out, in, kernel, kernel);
        this.bias = p.get("bias", Params.Init.ZEROS, out);
        this.stride = new Shape(stride, stride);
        this.padding = new Shape(padding, padding);
    }

    /** Stride 1 and "same" padding. */
    public static Conv2d same(Params p, int in, int out, int kernel) {
        return new Conv2d(p, in, out, kernel, 1, kernel / 2);
    }

    public NDArray forward(NDArray x) {
        return ai.djl.nn.convolutional.Conv2d.conv2d(x, weight, bias, stride, padding, new Shape(1, 1))
                .singletonOrThrow();
    }
}
