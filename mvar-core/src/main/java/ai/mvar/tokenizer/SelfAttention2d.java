package ai.mvar.tokenizer;

import ai.djl.ndarray.NDArray;
import ai.mvar.nn.Functions;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Conv2d;
import ai.mvar.nn.GroupNorm;
import ai.mvar.nn.Params;

/** Single-head spatial self-attention with a residual, used at the VAE's lowest resolution. */
final class SelfAttention2d {
    private final GroupNorm norm;
    private final Conv2d qkv;
    private final Conv2d projOut;
    private final int channels;
    private final double scale;

    SelfAttention2d(Params p, int channels) {
        this.channels = channels;
        this.scale = 1 / Math.sqrt(channels);
        norm = new GroupNorm(p.child("norm"), VqVaeConfig.GROUPS, channels, VqVaeConfig.NORM_EPS);
        qkv = Conv2d.same(p.child("qkv"), channels, 3 * channels, 1);
        projOut = Conv2d.same(p.child("proj_out"), channels, channels, 1);
    }

    NDArray forward(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long hw = s.get(2) * s.get(3);
        NDArray qkvFlat = qkv.forward(norm.forward(x)).reshape(b, 3, channels, hw);
        NDArray q = qkvFlat.get(":, 0");
        NDArray k = qkvFlat.get(":, 1");
        NDArray v = qkvFlat.get(":, 2");
        NDArray w = Functions.scale(q.transpose(0, 2, 1).matMul(k), scale).softmax(2); // [B, q, k]
        NDArray h = v.matMul(w.transpose(0, 2, 1)).reshape(s); // [B, C, q]
        return x.add(projOut.forward(h));
    }
}
