package ai.mvar.train.tokenizer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.mvar.nn.Functions;
import ai.mvar.nn.Interpolation;
import ai.mvar.tokenizer.ResidualQuantizer;
import ai.mvar.tokenizer.ScaleSchedule;
import java.util.ArrayList;
import java.util.List;

/**
 * The training forward pass of the multi-scale residual quantizer (VAR's {@code
 * VectorQuantizer2.forward}): the same code choices as {@link ResidualQuantizer#quantize}, plus
 * what training needs around the non-differentiable argmin.
 *
 * <ul>
 *   <li>Codes are chosen on a detached copy of f; each scale's contribution {@code
 *       phi_s(bicubic(embed(idx)))} keeps its gradient to the codebook and the phi convolutions.
 *   <li>VQ loss, averaged over scales: {@code beta * mse(f_hat.detach(), f)} (commitment, trains
 *       the encoder) {@code + mse(f_hat, f.detach())} (trains codebook and phi), with f_hat the
 *       running sum after each scale.
 *   <li>Output {@code f_hat.detach() - f.detach() + f}: the value of f_hat with the gradient of f,
 *       the straight-through estimator that lets the decoder's gradient reach the encoder.
 * </ul>
 *
 * Results live in the manager of {@code f}; call it inside a scope.
 */
public final class StraightThroughQuantizer {
    private final ResidualQuantizer quantizer;
    private final ScaleSchedule schedule;
    private final int channels;
    private final float beta;

    public StraightThroughQuantizer(ResidualQuantizer quantizer, ScaleSchedule schedule, int channels, float beta) {
        this.quantizer = quantizer;
        this.schedule = schedule;
        this.channels = channels;
        this.beta = beta;
    }

    /**
     * @param fHat f_hat with the straight-through gradient, {@code [B, C, h, w]}
     * @param vqLoss the scalar VQ loss
     * @param indices chosen codes per scale, {@code [B, p_s^2]} int64
     * @param quantized every vector the codes were chosen for, all scales, {@code [N, C]}, detached
     */
    public record Result(NDArray fHat, NDArray vqLoss, List<NDArray> indices, NDArray quantized) {}

    public Result forward(NDArray f) {
        long b = f.getShape().get(0);
        NDArray fDetached = f.stopGradient();
        NDArray rest = fDetached;
        NDArray fHat = null;
        NDArray vqLoss = null;
        List<NDArray> indices = new ArrayList<>();
        List<NDArray> quantized = new ArrayList<>();
        int k = schedule.scales();
        for (int s = 0; s < k; s++) {
            int side = schedule.side(s);
            NDArray z = s == k - 1 ? rest : Interpolation.resize(rest, Interpolation.Mode.AREA, side, side);
            NDArray zNC = z.transpose(0, 2, 3, 1).reshape(-1, channels);
            quantized.add(zNC);
            NDArray idx = quantizer.nearest(zNC).reshape(b, (long) side * side);
            indices.add(idx);
            NDArray h = quantizer.residual(idx, s);
            fHat = fHat == null ? h : fHat.add(h);
            rest = rest.sub(h.stopGradient());
            NDArray commitment = Functions.scale(fHat.stopGradient().sub(f).square().mean(), beta);
            NDArray codebook = fHat.sub(fDetached).square().mean();
            NDArray scaleLoss = commitment.add(codebook);
            vqLoss = vqLoss == null ? scaleLoss : vqLoss.add(scaleLoss);
        }
        NDArray straightThrough = fHat.stopGradient().sub(fDetached).add(f);
        return new Result(straightThrough, Functions.scale(vqLoss, 1.0 / k), indices, NDArrays.concat(new NDList(quantized), 0));
    }
}
