package ai.mvar.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.mvar.model.KvCache;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Functions;
import ai.mvar.nn.ProcessMemory;
import ai.mvar.nn.Scope;
import ai.mvar.tokenizer.ResidualQuantizer;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Class-conditional generation by next-scale prediction with classifier-free guidance. MVAR runs
 * each step on the current scale's tokens alone (neighbourhood attention from refine_step on) and
 * keeps no cache; VAR attends to a KV cache of every coarser scale.
 *
 * <p>Each scale runs in its own scope: only f_hat, the next input and VAR's cache outlive a step,
 * so peak memory reflects what the method itself needs.
 */
public final class Sampler {
    private final Transformer transformer;
    private final VqVae vae;

    public Sampler(Transformer transformer, VqVae vae) {
        if (transformer.config().vocabSize() != vae.config().vocabSize()
                || transformer.config().latentChannels() != vae.config().latentChannels()
                || !transformer.config().schedule().equals(vae.config().schedule())) {
            throw new IllegalArgumentException("transformer (V=" + transformer.config().vocabSize() + ", Cvae="
                    + transformer.config().latentChannels() + ", patch_nums=" + transformer.config().schedule()
                    + ") does not fit tokenizer " + vae.config());
        }
        this.transformer = transformer;
        this.vae = vae;
    }

    /** Samples one image per label ({@code [B]} int64); results belong to the labels' manager. */
    public Samples sample(NDArray labels, SamplingOptions options) {
        return sample(labels, options, scale -> {});
    }

    /**
     * @param progress called after each scale with its index
     */
    public Samples sample(NDArray labels, SamplingOptions options, IntConsumer progress) {
        return complete(labels, List.of(), options, progress);
    }

    /**
     * Completes given coarse scales: the tokens of scales {@code [0, coarse.size())} are {@code
     * coarse} (e.g. a real image's, from {@link VqVae#encode}), the finer ones are sampled as
     * {@link #sample} samples them. With every scale given, the result is the tokenizer's
     * reconstruction; with none, a sample. Images in [0, 1] belong to the labels' manager.
     *
     * @param coarse {@code [B, p_s^2]} int64 token indices of the first scales, in order (not consumed)
     */
    public Samples complete(NDArray labels, List<NDArray> coarse, SamplingOptions options, IntConsumer progress) {
        TokenPyramid tokens = generate(labels, coarse, options, progress);
        NDArray images = Scope.keep(labels.getManager(), () -> vae.decode(tokens.fHat()).add(1).mul(0.5));
        return new Samples(tokens, images);
    }

    /**
     * The token pyramid and f_hat, without decoding: the part where VAR and MVAR differ.
     *
     * @param progress called after each scale with its index
     */
    public TokenPyramid generate(NDArray labels, SamplingOptions options, IntConsumer progress) {
        return generate(labels, List.of(), options, progress);
    }

    /** {@link #generate} from given coarse scales, as {@link #complete}. */
    public TokenPyramid generate(NDArray labels, List<NDArray> coarse, SamplingOptions options, IntConsumer progress) {
        NDManager out = labels.getManager();
        ScaleSchedule schedule = transformer.config().schedule();
        ResidualQuantizer quantizer = vae.quantizer();
        int scales = schedule.scales();
        long b = labels.getShape().get(0);
        if (coarse.size() > scales) {
            throw new IllegalArgumentException(coarse.size() + " coarse scales given; the pyramid has " + scales);
        }
        for (int s = 0; s < coarse.size(); s++) {
            Shape expected = new Shape(b, schedule.tokens(s));
            if (!coarse.get(s).getShape().equals(expected)) {
                throw new IllegalArgumentException("coarse scale " + s + " has shape " + coarse.get(s).getShape()
                        + ", expected " + expected + " (batch x tokens of the scale)");
            }
        }
        options.temperature().checkScales(scales);
        boolean guided = options.guided();
        TokenSampler tokens = new TokenSampler(options.topK(), options.topP(), options.seed());
        KvCache cache = options.mode() == Mode.VAR ? new KvCache(transformer.config().depth(), schedule.length()) : null;
        List<NDArray> indices = new ArrayList<>();
        try (NDScope whole = new NDScope()) {
            whole.suppressNotUsedWarning();
            NDArray condLabels = guided
                    ? labels.concat(labels.getManager().full(labels.getShape(), transformer.config().classes(), labels.getDataType()))
                    : labels;
            NDArray cond = transformer.classEmbedding(condLabels);
            NDArray x = transformer.startTokens(cond);
            NDArray fHat = null;
            for (int s = 0; s < scales; s++) {
                NDArray previousX = x;
                NDArray previousFHat = fHat;
                try (NDScope step = new NDScope()) {
                    step.suppressNotUsedWarning();
                    NDArray logits = transformer.run(x, cond, transformer.samplingPattern(s, options.mode()), cache);
                    if (guided) {
                        double t = options.cfg() * (scales == 1 ? 0 : (double) s / (scales - 1));
                        // (1 + t) c + (-t) u equals (1 + t) c - t u bit for bit; the vocabulary-wide
                        // logits and their halves are freed as soon as the mix exists.
                        NDArray conditional;
                        NDArray unconditional;
                        try (NDArray c = logits.get(new NDIndex("0:{}", b));
                                NDArray u = logits.get(new NDIndex("{}:", b))) {
                            conditional = Functions.scale(c, 1 + t);
                            unconditional = Functions.scale(u, -t);
                        }
                        logits.close();
                        logits = Functions.addConsuming(conditional, unconditional);
                        unconditional.close();
                    }
                    // A given scale still runs the model: VAR's KV cache needs its keys and values.
                    NDArray idx = s < coarse.size()
                            ? coarse.get(s).toDevice(logits.getDevice(), true).toType(DataType.INT64, false)
                            : tokens.sample(logits, options.temperature().at(s));
                    NDArray h = quantizer.residual(idx, s);
                    fHat = fHat == null ? h : fHat.add(h);
                    indices.add(idx);
                    NDScope.unregister(idx, fHat);
                    if (s + 1 < scales) {
                        x = transformer.embedTokens(quantizer.nextScaleInput(fHat, s + 1), s + 1, s + 2);
                        if (guided) {
                            x = x.concat(x, 0);
                        }
                        NDScope.unregister(x);
                    }
                }
                // What the step consumed is no longer needed; closing twice is harmless.
                previousX.close();
                if (previousFHat != null) {
                    previousFHat.close();
                }
                if (!labels.getDevice().isGpu()) {
                    // The next scale's arrays are larger: return this one's freed memory to the
                    // system instead of leaving it fragmented in the C heap (about a millisecond).
                    ProcessMemory.trimNativeHeap();
                }
                progress.accept(s);
            }
            NDList results = new NDList(fHat);
            results.addAll(indices);
            NDScope.unregister(results);
            results.attach(out);
            if (cache != null) {
                cache.close();
            }
            return new TokenPyramid(indices, fHat);
        }
    }
}
