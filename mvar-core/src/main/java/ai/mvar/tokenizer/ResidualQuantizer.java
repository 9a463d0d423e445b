package ai.mvar.tokenizer;

import ai.djl.ndarray.NDArray;
import ai.mvar.nn.Functions;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.mvar.nn.Conv2d;
import ai.mvar.nn.Interpolation;
import ai.mvar.nn.Params;
import java.util.ArrayList;
import java.util.List;

/**
 * Multi-scale residual vector quantisation (VAR's {@code VectorQuantizer2}): one codebook shared by
 * all scales, each scale quantising what the coarser ones left over, and partially shared
 * convolutions {@code phi} that refine each scale's contribution at the latent size.
 *
 * <p>Every method is a pure function of its inputs and creates its results in the manager of its
 * first input; callers scope them (see {@link VqVae}).
 */
public final class ResidualQuantizer {
    private final VqVaeConfig config;
    private final ScaleSchedule schedule;
    private final NDArray codebook;
    private final Conv2d[] phis;

    ResidualQuantizer(Params p, VqVaeConfig c) {
        config = c;
        schedule = c.schedule();
        codebook = p.get("embedding.weight", Params.Init.NORMAL, c.vocabSize(), c.latentChannels());
        phis = new Conv2d[c.phiCount()];
        for (int i = 0; i < phis.length; i++) {
            phis[i] = Conv2d.same(p.child("quant_resi.qresi_ls." + i), c.latentChannels(), c.latentChannels(), 3);
        }
        p.buffer("ema_vocab_hit_SV", c.schedule().scales(), c.vocabSize()); // a training statistic
    }

    /** The codebook {@code [V, Cvae]}. */
    public NDArray codebook() {
        return codebook;
    }

    /**
     * Which phi serves scale s: the one whose tick is closest to {@code s/(K-1)}, first on ties.
     * Ticks are {@code linspace(m, 1-m, n)} with margin {@code m = 1/(3n)} for n = 4 and {@code
     * 1/(2n)} otherwise, computed in double precision exactly as numpy does, because some scales
     * fall exactly between two ticks and rounding decides.
     */
    public int phiIndex(int scale) {
        int n = phis.length;
        int k = schedule.scales();
        double at = k == 1 ? 0 : (double) scale / (k - 1);
        double start = n == 4 ? 1.0 / 3 / n : 1.0 / 2 / n;
        double stop = n == 4 ? 1 - 1.0 / 3 / n : 1 - 1.0 / 2 / n;
        double step = (stop - start) / (n - 1);
        int best = 0;
        double bestDistance = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            double tick = i == n - 1 && n > 1 ? stop : i * step + start;
            double d = Math.abs(tick - at);
            if (d < bestDistance) {
                bestDistance = d;
                best = i;
            }
        }
        return best;
    }

    /** {@code phi_s(h) = (1-r) h + r conv(h)}. */
    public NDArray phi(int scale, NDArray h) {
        float r = config.phiRatio();
        return Functions.scale(h, 1 - r).add(Functions.scale(phis[phiIndex(scale)].forward(h), r));
    }

    /** Nearest codes by squared L2 distance, first index on ties: {@code [N, C] -> [N]} int64. */
    public NDArray nearest(NDArray zNC) {
        NDArray zz = zNC.square().sum(new int[] {1}, true);
        NDArray ee = codebook.square().sum(new int[] {1});
        NDArray d = zz.add(ee).sub(zNC.matMul(codebook.transpose()).mul(2));
        return d.argMin(1).toType(DataType.INT64, false);
    }

    /** Code vectors of the indices of scale s, as a map: {@code [B, p*p] -> [B, C, p, p]}. */
    public NDArray codeMap(NDArray indices, int scale) {
        int side = schedule.side(scale);
        long b = indices.getShape().get(0);
        NDArray vectors = codebook.get(new NDIndex("{}", indices.reshape(-1)));
        return vectors.reshape(b, side, side, config.latentChannels()).transpose(0, 3, 1, 2);
    }

    /**
     * The contribution of scale s's indices to f_hat: {@code phi_s(bicubic(embed(idx), latent))},
     * without resizing at the latent size.
     */
    public NDArray residual(NDArray indices, int scale) {
        NDArray h = codeMap(indices, scale);
        int latent = schedule.latentSide();
        if (scale != schedule.scales() - 1) {
            h = Interpolation.resize(h, Interpolation.Mode.BICUBIC, latent, latent);
        }
        return phi(scale, h);
    }

    /** Token indices per scale, {@code [B, p_s^2]} int64, for latent features {@code [B,C,h,w]}. */
    public List<NDArray> quantize(NDArray f) {
        checkLatent(f);
        long b = f.getShape().get(0);
        NDArray rest = f;
        List<NDArray> indices = new ArrayList<>();
        for (int s = 0; s < schedule.scales(); s++) {
            int side = schedule.side(s);
            NDArray z = s == schedule.scales() - 1
                    ? rest
                    : Interpolation.resize(rest, Interpolation.Mode.AREA, side, side);
            NDArray zNC = z.transpose(0, 2, 3, 1).reshape(-1, config.latentChannels());
            NDArray idx = nearest(zNC).reshape(b, (long) side * side);
            indices.add(idx);
            rest = rest.sub(residual(idx, s));
        }
        return indices;
    }

    /** f_hat {@code [B, C, h, w]} from the indices of every scale. */
    public NDArray indicesToFHat(List<NDArray> indices) {
        checkScales(indices, schedule.scales());
        NDArray fHat = residual(indices.get(0), 0);
        for (int s = 1; s < indices.size(); s++) {
            fHat = fHat.add(residual(indices.get(s), s));
        }
        return fHat;
    }

    /**
     * The transformer's input tokens for scale {@code nextScale}: f_hat area-resized to that scale,
     * flattened row-major, {@code [B, p^2, C]}.
     */
    public NDArray nextScaleInput(NDArray fHat, int nextScale) {
        int side = schedule.side(nextScale);
        NDArray z = Interpolation.resize(fHat, Interpolation.Mode.AREA, side, side);
        long b = z.getShape().get(0);
        return z.reshape(b, config.latentChannels(), (long) side * side).transpose(0, 2, 1);
    }

    /**
     * Teacher-forcing inputs {@code [B, L - p_0^2, C]}: for every scale after the first, the
     * running f_hat of the scales before it, resized to it (the reference's {@code
     * idxBl_to_var_input}). Needs the indices of at least the first K-1 scales.
     */
    public NDArray teacherForcingInput(List<NDArray> indices) {
        if (indices.size() < schedule.scales() - 1) {
            throw new IllegalArgumentException("teacher forcing needs indices of " + (schedule.scales() - 1)
                    + " scales, got " + indices.size());
        }
        List<NDArray> inputs = new ArrayList<>();
        NDArray fHat = null;
        int latent = schedule.latentSide();
        for (int s = 0; s < schedule.scales() - 1; s++) {
            // The reference resizes with bicubic here even when a scale already has the latent size.
            NDArray h = Interpolation.resize(codeMap(indices.get(s), s), Interpolation.Mode.BICUBIC, latent, latent);
            h = phi(s, h);
            fHat = fHat == null ? h : fHat.add(h);
            inputs.add(nextScaleInput(fHat, s + 1));
        }
        return NDArrays.concat(new NDList(inputs), 1);
    }

    private void checkLatent(NDArray f) {
        long[] s = f.getShape().getShape();
        int latent = schedule.latentSide();
        if (s.length != 4 || s[1] != config.latentChannels() || s[2] != latent || s[3] != latent) {
            throw new IllegalArgumentException("latent features must be [B, " + config.latentChannels() + ", "
                    + latent + ", " + latent + "], got " + f.getShape());
        }
    }

    static void checkScales(List<NDArray> indices, int expected) {
        if (indices.size() != expected) {
            throw new IllegalArgumentException("expected indices of " + expected + " scales, got " + indices.size());
        }
    }
}
