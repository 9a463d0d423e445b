package ai.mvar.tokenizer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.mvar.nn.Conv2d;
import ai.mvar.nn.InitParams;
import ai.mvar.nn.ParameterSpec;
import ai.mvar.nn.Params;
import ai.mvar.nn.Scope;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.StateDictParams;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The multi-scale VQ tokenizer: images to token pyramids and back. Parameter names are those of
 * VAR's {@code VQVAE} state dict, so official weights load unchanged.
 *
 * <p>Every public method runs in its own scope: its intermediates are freed before it returns and
 * its results belong to the manager of its input, so encoding any number of batches keeps native
 * memory flat. The tokenizer owns its weights; close it to free them.
 */
public final class VqVae implements AutoCloseable {
    /** The weight of the decoder's last layer. */
    public static final String DECODER_OUTPUT_WEIGHT = "decoder.conv_out.weight";

    private final VqVaeConfig config;
    private final StateDict weights;
    private final Encoder encoder;
    private final Conv2d quantConv;
    private final ResidualQuantizer quantizer;
    private final Conv2d postQuantConv;
    private final Decoder decoder;

    private VqVae(VqVaeConfig config, StateDict weights, Params p) {
        this.config = config;
        this.weights = weights;
        int cvae = config.latentChannels();
        encoder = new Encoder(p.child("encoder"), config);
        decoder = new Decoder(p.child("decoder"), config);
        quantizer = new ResidualQuantizer(p.child("quantize"), config);
        quantConv = Conv2d.same(p.child("quant_conv"), cvae, cvae, 3);
        postQuantConv = Conv2d.same(p.child("post_quant_conv"), cvae, cvae, 3);
    }

    /**
     * A tokenizer over the given weights, which it takes ownership of. Every missing, unexpected or
     * mis-shaped weight is reported in one {@link ai.mvar.nn.WeightMismatchException}.
     */
    public static VqVae load(VqVaeConfig config, StateDict weights) {
        StateDictParams params = new StateDictParams(weights, DataType.FLOAT32);
        VqVae vae = new VqVae(config, weights, params.root());
        params.verify();
        return vae;
    }

    /** A tokenizer with freshly initialised weights, for training or benchmarks. */
    public static VqVae random(VqVaeConfig config, NDManager manager, long seed) {
        StateDict weights = new StateDict(manager.newSubManager(), "random init (seed " + seed + ")");
        return initialise(config, new InitParams(weights, seed));
    }

    /** Fresh weights from {@code init}, created into its state dict, which the tokenizer owns. */
    public static VqVae initialise(VqVaeConfig config, InitParams init) {
        return new VqVae(config, init.target(), init.root());
    }

    /** Names and shapes of every parameter, computed without allocating any. */
    public static ParameterSpec spec(VqVaeConfig config) {
        return ParameterSpec.record(p -> new VqVae(config, null, p));
    }

    public VqVaeConfig config() {
        return config;
    }

    public ResidualQuantizer quantizer() {
        return quantizer;
    }

    public StateDict weights() {
        return weights;
    }

    /**
     * The weights between f_hat and the image ({@code post_quant_conv.*}, {@code decoder.*}): those a
     * decoder fine-tuning changes. The encoder, the codebook and the quantizer's phi convolutions
     * stay, so the tokens of every image, and the transformer's teacher-forcing inputs, stay too.
     */
    public Map<String, NDArray> decoderWeights() {
        Map<String, NDArray> decoding = new LinkedHashMap<>();
        weights.tensors().forEach((name, w) -> {
            if (name.startsWith("decoder.") || name.startsWith("post_quant_conv.")) {
                decoding.put(name, w);
            }
        });
        return decoding;
    }

    /** Token indices per scale, {@code [B, p_s^2]} int64, for images {@code [B,3,H,W]} in [-1,1]. */
    public List<NDArray> encode(NDArray images) {
        checkImages(images);
        return Scope.keepAll(images.getManager(), () -> quantizer.quantize(features(images)));
    }

    /** Latent features {@code quant_conv(encoder(img))}, {@code [B, Cvae, h, w]}, before quantisation. */
    public NDArray features(NDArray images) {
        return quantConv.forward(encoder.forward(images));
    }

    /** f_hat {@code [B, Cvae, h, w]} from the indices of every scale. */
    public NDArray indicesToFHat(List<NDArray> indices) {
        return Scope.keep(indices.get(0).getManager(), () -> quantizer.indicesToFHat(indices));
    }

    /** Images {@code [B,3,H,W]} in [-1,1] from f_hat. */
    public NDArray decode(NDArray fHat) {
        return Scope.keep(fHat.getManager(), () -> decodeUnscoped(fHat));
    }

    /** Images in [-1,1] decoded from the indices of every scale. */
    public NDArray decodeIndices(List<NDArray> indices) {
        return Scope.keep(indices.get(0).getManager(), () -> decodeUnscoped(quantizer.indicesToFHat(indices)));
    }

    /** Teacher-forcing inputs {@code [B, L-1, Cvae]} for the transformer. */
    public NDArray teacherForcingInput(List<NDArray> indices) {
        return Scope.keep(indices.get(0).getManager(), () -> quantizer.teacherForcingInput(indices));
    }

    /**
     * The decoder's raw output, neither clamped nor scoped: for training, where the clamp would
     * zero the gradient of saturated pixels and the graph must keep the intermediates.
     */
    public NDArray decodeUnclamped(NDArray fHat) {
        return decoderOutput(decoderFeatures(fHat));
    }

    /**
     * {@link #decodeUnclamped} up to the decoder's output convolution, unscoped: training splits
     * the decoder there because the adaptive weight of a GAN loss compares gradients of the output
     * convolution's weight ({@link #DECODER_OUTPUT_WEIGHT}).
     */
    public NDArray decoderFeatures(NDArray fHat) {
        return decoder.features(postQuantConv.forward(fHat));
    }

    /** The decoder's output convolution: the unclamped image from {@link #decoderFeatures}. */
    public NDArray decoderOutput(NDArray features) {
        return decoder.output(features);
    }

    private NDArray decodeUnscoped(NDArray fHat) {
        return decodeUnclamped(fHat).clip(-1, 1);
    }

    private void checkImages(NDArray images) {
        long[] s = images.getShape().getShape();
        int size = config.imageSize();
        if (s.length != 4 || s[1] != 3 || s[2] != size || s[3] != size) {
            throw new IllegalArgumentException("images must be [B, 3, " + size + ", " + size
                    + "] for patch_nums " + config.schedule() + ", got " + images.getShape());
        }
    }

    @Override
    public void close() {
        if (weights != null) {
            weights.close();
        }
    }
}
