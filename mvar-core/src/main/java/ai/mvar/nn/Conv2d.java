package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

/**
 * A 2-D convolution with bias, square kernel, PyTorch weight layout {@code [out, in, k, k]}.
 *
 * <p>The CPU engine's native convolution backward (libtorch 2.7.1) returns NaN input gradients,
 * in most runs, for convolutions with few output channels (32 -> 3, 64 -> 8; probed over channel
 * counts, see {@code Conv2dTest}). While
 * gradients are recorded such a convolution runs as im2col and one matrix product instead, which
 * is several times slower; every other convolution, and all of inference, uses the native kernel,
 * whose gradients {@code Conv2dTest} checks against im2col for the shapes the models use.
 */
public final class Conv2d {
    /** Below this many output channels the native backward is not trusted. */
    static final int FEW_CHANNELS = 16;

    private final NDArray weight;
    private final NDArray bias;
    private final int kernel;
    private final int strideSize;
    private final int paddingSize;
    private final boolean fewChannels;
    private final Shape stride;
    private final Shape padding;

    public Conv2d(Params p, int in, int out, int kernel, int stride, int padding) {
        this.weight = p.get("weight", Params.Init.FAN_IN_UNIFORM, out, in, kernel, kernel);
        this.bias = p.get("bias", Params.Init.ZEROS, out);
        this.kernel = kernel;
        this.strideSize = stride;
        this.paddingSize = padding;
        this.fewChannels = out < FEW_CHANNELS;
        this.stride = new Shape(stride, stride);
        this.padding = new Shape(padding, padding);
    }

    /** Stride 1 and "same" padding. */
    public static Conv2d same(Params p, int in, int out, int kernel) {
        return new Conv2d(p, in, out, kernel, 1, kernel / 2);
    }

    public NDArray forward(NDArray x) {
        if (JniUtils.isGradMode() && fewChannels) {
            return im2col(x);
        }
        return ai.djl.nn.convolutional.Conv2d.conv2d(x, weight, bias, stride, padding, new Shape(1, 1))
                .singletonOrThrow();
    }

    /** The same convolution as gathered patches times the flattened kernel. */
    NDArray im2col(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long in = s.get(1);
        long outH = (s.get(2) + 2L * paddingSize - kernel) / strideSize + 1;
        long outW = (s.get(3) + 2L * paddingSize - kernel) / strideSize + 1;
        NDArray padded = paddingSize == 0 ? x : x.pad(new Shape(paddingSize, paddingSize, paddingSize, paddingSize), 0);
        NDList patches = new NDList(kernel * kernel);
        for (int i = 0; i < kernel; i++) {
            for (int j = 0; j < kernel; j++) {
                patches.add(padded.get(new NDIndex(":, :, {}:{}:{}, {}:{}:{}", i, i + strideSize * (outH - 1) + 1,
                        strideSize, j, j + strideSize * (outW - 1) + 1, strideSize)));
            }
        }
        // [B, in, k*k, H', W'] flattened in the order of the weight's [in, k, k]
        NDArray cols = NDArrays.stack(patches, 2).reshape(b, in * kernel * kernel, outH * outW);
        long out = weight.getShape().get(0);
        NDArray y = cols.transpose(0, 2, 1).matMul(weight.reshape(out, -1).transpose()); // [B, H'W', out]
        return y.add(bias).transpose(0, 2, 1).reshape(b, out, outH, outW);
    }
}
