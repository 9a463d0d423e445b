package ai.mvar.tokenizer;

import ai.djl.ndarray.NDArray;
import ai.mvar.nn.Conv2d;
import ai.mvar.nn.Functions;
import ai.mvar.nn.GroupNorm;
import ai.mvar.nn.Params;

/** Pre-activation ResNet block: two GroupNorm-SiLU-conv3x3 stages and a 1x1 shortcut on width change. */
final class ResnetBlock {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d shortcut;

    ResnetBlock(Params p, int in, int out) {
        norm1 = new GroupNorm(p.child("norm1"), VqVaeConfig.GROUPS, in, VqVaeConfig.NORM_EPS);
        conv1 = Conv2d.same(p.child("conv1"), in, out, 3);
        norm2 = new GroupNorm(p.child("norm2"), VqVaeConfig.GROUPS, out, VqVaeConfig.NORM_EPS);
        conv2 = Conv2d.same(p.child("conv2"), out, out, 3);
        shortcut = in == out ? null : Conv2d.same(p.child("nin_shortcut"), in, out, 1);
    }

    NDArray forward(NDArray x) {
        NDArray h = conv1.forward(Functions.silu(norm1.forward(x)));
        h = conv2.forward(Functions.silu(norm2.forward(h)));
        return (shortcut == null ? x : shortcut.forward(x)).add(h);
    }
}
