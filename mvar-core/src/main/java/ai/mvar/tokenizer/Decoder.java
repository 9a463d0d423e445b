package ai.mvar.tokenizer;

import ai.djl.ndarray.NDArray;
import ai.mvar.nn.Conv2d;
import ai.mvar.nn.Functions;
import ai.mvar.nn.GroupNorm;
import ai.mvar.nn.Params;
import ai.mvar.nn.Scope;
import java.util.ArrayList;
import java.util.List;

/** Latent {@code [B,Cvae,h,w]} to image {@code [B,3,h*d,w*d]} (not clamped). */
final class Decoder {
    private final Conv2d convIn;
    private final ResnetBlock mid1;
    private final SelfAttention2d midAttn;
    private final ResnetBlock mid2;
    /** Indexed by level as in the state dict ({@code up.<level>}); run from the last level down. */
    private final List<List<ResnetBlock>> blocks = new ArrayList<>();
    private final List<List<SelfAttention2d>> attns = new ArrayList<>();
    private final List<Conv2d> upsamples = new ArrayList<>();
    private final GroupNorm normOut;
    private final Conv2d convOut;

    Decoder(Params p, VqVaeConfig c) {
        int ch = c.channels();
        int[] mult = c.channelMultipliers();
        int levels = mult.length;
        int blockIn = ch * mult[levels - 1];
        convIn = Conv2d.same(p.child("conv_in"), c.latentChannels(), blockIn, 3);
        mid1 = new ResnetBlock(p.child("mid.block_1"), blockIn, blockIn);
        midAttn = new SelfAttention2d(p.child("mid.attn_1"), blockIn);
        mid2 = new ResnetBlock(p.child("mid.block_2"), blockIn, blockIn);
        for (int level = 0; level < levels; level++) {
            blocks.add(null);
            attns.add(null);
            upsamples.add(null);
        }
        for (int level = levels - 1; level >= 0; level--) {
            Params up = p.child("up." + level);
            int blockOut = ch * mult[level];
            List<ResnetBlock> levelBlocks = new ArrayList<>();
            List<SelfAttention2d> levelAttns = new ArrayList<>();
            for (int i = 0; i < c.resBlocks() + 1; i++) {
                levelBlocks.add(new ResnetBlock(up.child("block." + i), blockIn, blockOut));
                blockIn = blockOut;
                if (level == levels - 1) {
                    levelAttns.add(new SelfAttention2d(up.child("attn." + i), blockIn));
                }
            }
            blocks.set(level, levelBlocks);
            attns.set(level, levelAttns);
            if (level != 0) {
                upsamples.set(level, Conv2d.same(up.child("upsample.conv"), blockIn, blockIn, 3));
            }
        }
        normOut = new GroupNorm(p.child("norm_out"), VqVaeConfig.GROUPS, blockIn, VqVaeConfig.NORM_EPS);
        convOut = Conv2d.same(p.child("conv_out"), blockIn, 3, 3);
    }

    NDArray forward(NDArray z) {
        return output(features(z));
    }

    /** Everything before the output convolution: {@code silu(norm_out(h))}, {@code [B, ch, H, W]}. */
    NDArray features(NDArray z) {
        NDArray h = mid2.forward(midAttn.forward(mid1.forward(convIn.forward(z))));
        for (int level = blocks.size() - 1; level >= 0; level--) {
            List<SelfAttention2d> levelAttns = attns.get(level);
            for (int i = 0; i < blocks.get(level).size(); i++) {
                ResnetBlock block = blocks.get(level).get(i);
                h = Scope.layer(h, block::forward);
                if (!levelAttns.isEmpty()) {
                    h = Scope.layer(h, levelAttns.get(i)::forward);
                }
            }
            if (level != 0) {
                // nearest-neighbour 2x upsampling, then a 3x3 conv
                h = upsamples.get(level).forward(h.repeat(2, 2).repeat(3, 2));
            }
        }
        return Functions.silu(normOut.forward(h));
    }

    /** The output convolution ({@code conv_out}): image from {@link #features}. */
    NDArray output(NDArray features) {
        return convOut.forward(features);
    }
}
