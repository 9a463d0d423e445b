package ai.mvar.train.tokenizer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.mvar.nn.Conv2d;
import ai.mvar.nn.GroupNorm;
import ai.mvar.nn.InitParams;
import ai.mvar.nn.Params;
import ai.mvar.nn.StateDict;

/**
 * A PatchGAN discriminator (Isola et al. 2017, as in VQGAN's {@code NLayerDiscriminator}): a few
 * strided convolutions that end in one real/fake logit per overlapping patch instead of one per
 * image, so it judges local texture and sharpness, which pixel losses leave blurry.
 *
 * <p>Layers: 4x4 stride-2 conv to {@code width} channels, LeakyReLU 0.2; 4x4 stride-2 conv to
 * {@code 2 width}, GroupNorm, LeakyReLU; 3x3 conv to one logit. On 28 px images that is a 7 x 7 map
 * of logits, each seeing an 18 px patch. GroupNorm instead of VQGAN's BatchNorm: the real and the
 * fake batch pass separately, and a per-image norm keeps their statistics apart and a resumed run
 * bit-exact (no running averages).
 */
public final class PatchDiscriminator implements AutoCloseable {
    private static final float SLOPE = 0.2f;

    private final StateDict weights;
    private final Conv2d first;
    private final Conv2d second;
    private final GroupNorm norm;
    private final Conv2d logits;

    private PatchDiscriminator(StateDict weights, Params p, int width) {
        this.weights = weights;
        first = new Conv2d(p.child("conv1"), 3, width, 4, 2, 1);
        second = new Conv2d(p.child("conv2"), width, 2 * width, 4, 2, 1);
        norm = new GroupNorm(p.child("norm2"), Math.min(32, 2 * width), 2 * width, 1e-5f);
        logits = Conv2d.same(p.child("logits"), 2 * width, 1, 3);
    }

    /** Freshly initialised (PyTorch's default conv initialisation, seeded). */
    public static PatchDiscriminator random(int width, NDManager manager, long seed) {
        if (width < 1) {
            throw new IllegalArgumentException("discriminator width must be positive, got " + width);
        }
        StateDict weights = new StateDict(manager.newSubManager(), "discriminator init (seed " + seed + ")");
        return new PatchDiscriminator(weights, new InitParams(weights, seed).root(), width);
    }

    public StateDict weights() {
        return weights;
    }

    /** Patch logits {@code [B, 1, S/4, S/4]} of images {@code [B, 3, S, S]} in [-1, 1]; unscoped. */
    public NDArray forward(NDArray images) {
        NDArray x = Activation.leakyRelu(first.forward(images), SLOPE);
        x = Activation.leakyRelu(norm.forward(second.forward(x)), SLOPE);
        return logits.forward(x);
    }

    @Override
    public void close() {
        weights.close();
    }
}
