package ai.mvar.model;

import ai.mvar.tokenizer.ScaleSchedule;

/**
 * Sizes of the VAR/MVAR transformer. Nothing else in the model is a constant: depth, width, heads,
 * vocabulary, classes, pyramid, refine step and kernel all come from here.
 *
 * @param depth number of AdaLN blocks
 * @param width embedding width C
 * @param heads attention heads (C must divide evenly)
 * @param vocabSize codebook size V of the tokenizer
 * @param classes number of classes; the class embedding has one more row, "no class"
 * @param latentChannels code width Cvae of the tokenizer
 * @param schedule the token pyramid
 * @param refineStep first scale that uses neighbourhood attention in MVAR mode
 * @param kernelSize neighbourhood k (odd)
 * @param attnL2Norm L2-normalised q and k with a learned per-head scale (all official models)
 * @param mlpRatio FFN hidden width over C
 */
public record TransformerConfig(
        int depth,
        int width,
        int heads,
        int vocabSize,
        int classes,
        int latentChannels,
        ScaleSchedule schedule,
        int refineStep,
        int kernelSize,
        boolean attnL2Norm,
        double mlpRatio) {

    public static final float NORM_EPS = 1e-6f;

    public TransformerConfig {
        require(depth > 0, "depth", depth);
        require(width > 0, "embed_dim", width);
        require(heads > 0 && width % heads == 0, "num_heads (must divide embed_dim " + width + ")", heads);
        require(vocabSize > 0, "vocab_size", vocabSize);
        require(classes > 0, "num_classes", classes);
        require(latentChannels > 0, "Cvae", latentChannels);
        require(refineStep >= 0 && refineStep <= schedule.scales(), "refine_step", refineStep);
        require(kernelSize > 0 && kernelSize % 2 == 1, "kernel_size (odd)", kernelSize);
        if (mlpRatio <= 0) {
            throw new IllegalArgumentException("invalid mlp_ratio " + mlpRatio);
        }
    }

    /**
     * The official ImageNet-256 models {@code d16, d20, d24, d30}: C = 64 depth, heads = depth,
     * V = 4096, 1000 classes, the default pyramid, refine_step 8, k = 7.
     */
    public static TransformerConfig official(int depth) {
        return new TransformerConfig(depth, 64 * depth, depth, 4096, 1000, 32, ScaleSchedule.DEFAULT, 8, 7, true, 4.0);
    }

    public int headDim() {
        return width / heads;
    }

    public int hiddenWidth() {
        return (int) Math.round(width * mlpRatio);
    }

    /** Softmax scale: 1 with L2-normalised q and k (the learned scale multiplies q), else 0.25/sqrt(d). */
    public float attentionScale() {
        return attnL2Norm ? 1f : (float) (0.25 / Math.sqrt(headDim()));
    }

    private static void require(boolean ok, String what, int value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid transformer " + what + ": " + value);
        }
    }
}
