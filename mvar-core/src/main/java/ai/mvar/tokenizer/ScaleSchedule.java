package ai.mvar.tokenizer;

import java.util.Arrays;

/**
 * The token pyramid: scale {@code s} is a {@code p_s x p_s} map and the sequence of all scales,
 * coarse to fine, has {@code L = sum p_s^2} tokens. The last scale equals the latent size.
 */
public final class ScaleSchedule {
    /** The official VAR/MVAR schedule for 256 px images. */
    public static final ScaleSchedule DEFAULT = new ScaleSchedule(1, 2, 3, 4, 5, 6, 8, 10, 13, 16);

    private final int[] patchNums;
    private final int[] begin;

    public ScaleSchedule(int... patchNums) {
        if (patchNums.length == 0) {
            throw new IllegalArgumentException("patch_nums must name at least one scale");
        }
        this.patchNums = patchNums.clone();
        this.begin = new int[patchNums.length + 1];
        for (int s = 0; s < patchNums.length; s++) {
            if (patchNums[s] <= 0) {
                throw new IllegalArgumentException("patch_nums[" + s + "] = " + patchNums[s] + " is not positive");
            }
            begin[s + 1] = begin[s] + patchNums[s] * patchNums[s];
        }
    }

    /** Number of scales K. */
    public int scales() {
        return patchNums.length;
    }

    /** Side of scale s. */
    public int side(int s) {
        return patchNums[s];
    }

    /** Tokens in scale s. */
    public int tokens(int s) {
        return patchNums[s] * patchNums[s];
    }

    /** First token of scale s in the full sequence. */
    public int begin(int s) {
        return begin[s];
    }

    /** One past the last token of scale s. */
    public int end(int s) {
        return begin[s + 1];
    }

    /** Total tokens L. */
    public int length() {
        return begin[patchNums.length];
    }

    /** The latent map side (the last scale). */
    public int latentSide() {
        return patchNums[patchNums.length - 1];
    }

    public int[] patchNums() {
        return patchNums.clone();
    }

    /** Scale index of every token of the sequence (the reference's {@code lvl_1L}). */
    public int[] levels() {
        int[] lvl = new int[length()];
        for (int s = 0; s < scales(); s++) {
            Arrays.fill(lvl, begin(s), end(s), s);
        }
        return lvl;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScaleSchedule && Arrays.equals(patchNums, ((ScaleSchedule) o).patchNums);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(patchNums);
    }

    @Override
    public String toString() {
        return Arrays.toString(patchNums);
    }
}
