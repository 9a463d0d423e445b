package ai.mvar.tokenizer;

import java.util.Arrays;

/**
 * Sizes of the multi-scale residual VQ-VAE. {@link #official()} is VAR's {@code
 * vae_ch160v4096z32}; every other size works too.
 *
 * @param vocabSize codebook entries V
 * @param latentChannels code width Cvae (the reference's {@code z_channels})
 * @param channels base channel width {@code ch}
 * @param channelMultipliers per-resolution multipliers; their count fixes the downsampling
 * @param resBlocks ResNet blocks per encoder level (the decoder has one more)
 * @param phiCount number of partially shared {@code quant_resi} convolutions
 * @param phiRatio residual ratio of each phi: {@code phi(h) = (1-r) h + r conv(h)}
 * @param schedule the token pyramid; its last scale is the latent size
 */
public record VqVaeConfig(
        int vocabSize,
        int latentChannels,
        int channels,
        int[] channelMultipliers,
        int resBlocks,
        int phiCount,
        float phiRatio,
        ScaleSchedule schedule) {

    public static final int GROUPS = 32;
    public static final float NORM_EPS = 1e-6f;

    public VqVaeConfig {
        channelMultipliers = channelMultipliers.clone();
        require(vocabSize > 0, "vocab_size", vocabSize);
        require(latentChannels > 0, "Cvae", latentChannels);
        require(channels > 0 && channels % GROUPS == 0, "ch (a multiple of 32 for GroupNorm)", channels);
        require(channelMultipliers.length > 0, "ch_mult length", channelMultipliers.length);
        require(resBlocks > 0, "num_res_blocks", resBlocks);
        require(phiCount > 0, "share_quant_resi", phiCount);
    }

    /** The official tokenizer {@code vae_ch160v4096z32}. */
    public static VqVaeConfig official() {
        return new VqVaeConfig(4096, 32, 160, new int[] {1, 1, 2, 2, 4}, 2, 4, 0.5f, ScaleSchedule.DEFAULT);
    }

    /** The official architecture with other sizes. */
    public static VqVaeConfig of(int vocabSize, int latentChannels, int channels, ScaleSchedule schedule) {
        return new VqVaeConfig(vocabSize, latentChannels, channels, new int[] {1, 1, 2, 2, 4}, 2, 4, 0.5f, schedule);
    }

    /** Image side divided by latent side. */
    public int downsampling() {
        return 1 << (channelMultipliers.length - 1);
    }

    /** Side of the images this tokenizer encodes. */
    public int imageSize() {
        return schedule.latentSide() * downsampling();
    }

    @Override
    public int[] channelMultipliers() {
        return channelMultipliers.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VqVaeConfig c
                && vocabSize == c.vocabSize
                && latentChannels == c.latentChannels
                && channels == c.channels
                && Arrays.equals(channelMultipliers, c.channelMultipliers)
                && resBlocks == c.resBlocks
                && phiCount == c.phiCount
                && phiRatio == c.phiRatio
                && schedule.equals(c.schedule);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new Object[] {vocabSize, latentChannels, channels, Arrays.hashCode(channelMultipliers), resBlocks, phiCount, phiRatio, schedule});
    }

    @Override
    public String toString() {
        return "VqVaeConfig[V=" + vocabSize + ", Cvae=" + latentChannels + ", ch=" + channels
                + ", ch_mult=" + Arrays.toString(channelMultipliers) + ", res_blocks=" + resBlocks
                + ", phi=" + phiCount + "x" + phiRatio + ", patch_nums=" + schedule + "]";
    }

    private static void require(boolean ok, String what, int value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid VQ-VAE " + what + ": " + value);
        }
    }
}
