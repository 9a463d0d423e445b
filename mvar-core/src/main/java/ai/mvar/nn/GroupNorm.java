package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** {@code torch.nn.GroupNorm} with affine parameters over {@code [B, C, H, W]} input. */
public final class GroupNorm {
    private final NDArray weight;
    private final NDArray bias;
    private final int groups;
    private final float eps;

    public GroupNorm(Params p, int groups, int channels, float eps) {
        if (channels % groups != 0) {
            throw new IllegalArgumentException(
                    "GroupNorm: " + channels + " channels do not split into " + groups + " groups");
        }
        this.weight = p.get("weight", Params.Init.ONES, channels);
        this.bias = p.get("bias", Params.Init.ZEROS, channels);
        this.groups = groups;
        this.eps = eps;
    }

    public NDArray forward(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        NDArray g = x.reshape(b, groups, -1);
        NDArray mean = g.mean(new int[] {2}, true);
        NDArray centred = g.sub(mean);
        NDArray var = centred.square().mean(new int[] {2}, true);
        NDArray normed = centred.div(var.add(eps).sqrt()).reshape(s);
        long[] affine = new long[s.dimension()];
        java.util.Arrays.fill(affine, 1);
        affine[1] = c;
        return normed.mul(weight.reshape(affine)).add(bias.reshape(affine));
    }
}
