package ai.mvar.tokenizer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Conv2d;
import ai.mvar.nn.Functions;
import ai.mvar.nn.GroupNorm;
import ai.mvar.nn.Params;
import ai.mvar.nn.Scope;
import java.util.ArrayList;
import java.util.List;

/** Image {@code [B,3,H,W]} in [-1,1] to latent features {@code [B,Cvae,H/d,W/d]}. */
final class Encoder {
    private final Conv2d convIn;
    private final List<List<ResnetBlock>> blocks = new ArrayList<>();
    private final List<List<SelfAttention2d>> attns = new ArrayList<>();
    private final List<Conv2d> downsamples = new ArrayList<>();
    private final ResnetBlock mid1;
    private final SelfAttention2d midAttn;
    private final ResnetBlock mid2;
    private final GroupNorm normOut;
    private final Conv2d convOut;

    Encoder(Params p, VqVaeConfig c) {
        int ch = c.channels();
        int[] mult = c.channelMultipliers();
        int levels = mult.length;
        convIn = Conv2d.same(p.child("conv_in"), 3, ch, 3);
        int blockIn = ch;
        for (int level = 0; level < levels; level++) {
            Params down = p.child("down." + level);
            int blockOut = ch * mult[level];
            List<ResnetBlock> levelBlocks = new ArrayList<>();
            List<SelfAttention2d> levelAttns = new ArrayList<>();
            for (int i = 0; i < c.resBlocks(); i++) {
                levelBlocks.add(new ResnetBlock(down.child("block." + i), blockIn, blockOut));
                blockIn = blockOut;
                if (level == levels - 1) {
                    levelAttns.add(new SelfAttention2d(down.child("attn." + i), blockIn));
                }
            }
            blocks.add(levelBlocks);
            attns.add(levelAttns);
            if (level != levels - 1) {
                // stride-2 conv on a map padded by one zero row and column at the end
                downsamples.add(new Conv2d(down.child("downsample.conv"), blockIn, blockIn, 3, 2, 0));
            }
        }
        mid1 = new ResnetBlock(p.child("mid.block_1"), blockIn, blockIn);
        midAttn = new SelfAttention2d(p.child("mid.attn_1"), blockIn);
        mid2 = new ResnetBlock(p.child("mid.block_2"), blockIn, blockIn);
        normOut = new GroupNorm(p.child("norm_out"), VqVaeConfig.GROUPS, blockIn, VqVaeConfig.NORM_EPS);
        convOut = Conv2d.same(p.child("conv_out"), blockIn, c.latentChannels(), 3);
    }

    NDArray forward(NDArray x) {
        NDArray h = convIn.forward(x);
        for (int level = 0; level < blocks.size(); level++) {
            List<SelfAttention2d> levelAttns = attns.get(level);
            for (int i = 0; i < blocks.get(level).size(); i++) {
                ResnetBlock block = blocks.get(level).get(i);
                h = Scope.layer(h, block::forward);
                if (!levelAttns.isEmpty()) {
                    h = Scope.layer(h, levelAttns.get(i)::forward);
                }
            }
            if (level < downsamples.size()) {
                h = downsamples.get(level).forward(h.pad(new Shape(0, 1, 0, 1), 0));
            }
        }
        h = mid2.forward(midAttn.forward(mid1.forward(h)));
        return convOut.forward(Functions.silu(normOut.forward(h)));
    }
}
