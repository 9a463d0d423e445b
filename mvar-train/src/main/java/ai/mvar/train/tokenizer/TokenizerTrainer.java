package ai.mvar.train.tokenizer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import ai.mvar.nn.Functions;
import ai.mvar.nn.Scope;
import ai.mvar.nn.Tensors;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.NonFiniteLossException;
import ai.mvar.train.ParameterGroups;
import ai.mvar.train.TrainingRandom;
import ai.mvar.train.TrainingState;
import ai.mvar.train.WeightEma;
import ai.mvar.train.data.DataPosition;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains the multi-scale VQ tokenizer as VQGAN and VAR train theirs (VAR never published this
 * part): reconstruction loss (L2 or L1) plus the VQ loss of the {@link StraightThroughQuantizer},
 * and optionally an adversarial loss against a {@link PatchDiscriminator}:
 *
 * <ul>
 *   <li>generator: {@code rec + vq + lambda * w * (-mean D(x_rec))} from step {@code start} on, with
 *       VQGAN's adaptive weight {@code lambda = |grad_L rec| / (|grad_L g| + 1e-4)} (clamped to
 *       [0, 1e4]; L the decoder's output convolution), which keeps the adversarial gradient at the
 *       scale of the reconstruction gradient whatever the losses' magnitudes;
 *   <li>discriminator: hinge loss {@code (mean relu(1 - D(x)) + mean relu(1 + D(x_rec))) / 2},
 *       its own AdamW (betas 0.5, 0.9, as VQGAN), the same learning rate, from {@code start} on.
 * </ul>
 *
 * AdamW over every tokenizer weight; codebook usage tracked per scale; codes no scale used for
 * {@code reseedEvery} steps re-seeded from recent encoder outputs; optionally an exponential moving
 * average of the tokenizer's weights ({@link WeightEma}), which is then the trained model.
 *
 * <p>With {@link Config#decoderOnly} it fine-tunes the decoder of a trained tokenizer: only
 * {@link VqVae#decoderWeights} learn, from the reconstruction (and adversarial) loss of the frozen
 * encoder's f_hat, and nothing is re-seeded, so every token, every token cache and every transformer
 * trained on them stay valid while the images decoded from them change.
 */
public final class TokenizerTrainer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TokenizerTrainer.class);
    static final String CODEBOOK = "quantize.embedding.weight";
    static final String DISCRIMINATOR = "discriminator.";
    static final String EMA = "ema.";
    private static final String DISCRIMINATOR_STEPS = "discriminator_optimizer_steps";
    private static final String DECODER_OUTPUT_BIAS = "decoder.conv_out.bias";
    private static final String USAGE = "codebook_usage";
    private static final String POOL_ROWS = "recent_vectors";
    private static final String POOL_POSITION = "recent_vectors_position";
    private static final int POOL = 4096;
    private static final int POOL_PER_BATCH = 512;
    private static final AdamW.Config DISCRIMINATOR_OPTIMIZER =
            new AdamW.Config(0, 0.5, 0.9, 1e-8, 10, 1, new ParameterGroups(Set.of()));

    /** The reconstruction loss. */
    public enum Reconstruction {
        L2,
        L1
    }

    /**
     * The adversarial loss.
     *
     * @param weight w, the factor on the adaptive weight (VQGAN: 0.8); 0 turns the loss off
     * @param start the step from which the discriminator trains and the generator sees its loss
     * @param width the discriminator's first-layer channels
     */
    public record Adversarial(double weight, long start, int width) {
        public static final Adversarial OFF = new Adversarial(0, 0, 64);

        public Adversarial {
            if (!(weight >= 0) || start < 0 || width < 1) {
                throw new IllegalArgumentException("invalid adversarial settings: " + weight + ", " + start + ", " + width);
            }
        }

        public boolean on() {
            return weight > 0;
        }
    }

    /**
     * @param reconstruction L2 (mean squared error) or L1 on pixels in [-1, 1]
     * @param beta commitment weight (0.25, as VAR's quantizer)
     * @param reseedEvery re-seed dead codes every this many steps; 0 never
     * @param seed seeds the re-seeding choices and the discriminator's initialisation
     * @param optimizer AdamW settings of the tokenizer
     * @param adversarial the GAN loss, or {@link Adversarial#OFF}
     * @param emaDecay decay of the weight average that becomes the model; 0 for none
     * @param decoderOnly train only the decoder: the encoder, codebook and quantizer stay as they are
     */
    public record Config(Reconstruction reconstruction, float beta, int reseedEvery, long seed, AdamW.Config optimizer,
            Adversarial adversarial, double emaDecay, boolean decoderOnly) {
        public Config {
            if (!(emaDecay >= 0 && emaDecay < 1)) {
                throw new IllegalArgumentException("EMA decay must lie in [0, 1), got " + emaDecay);
            }
        }

        public static Config defaults(long seed) {
            return new Config(Reconstruction.L2, 0.25f, 200, seed,
                    AdamW.Config.reference().withWeightDecay(0).withMaxGradNorm(10), Adversarial.OFF, 0, false);
        }

        public Config withReseedEvery(int steps) {
            return new Config(reconstruction, beta, steps, seed, optimizer, adversarial, emaDecay, decoderOnly);
        }

        public Config withReconstruction(Reconstruction loss) {
            return new Config(loss, beta, reseedEvery, seed, optimizer, adversarial, emaDecay, decoderOnly);
        }

        public Config withAdversarial(Adversarial gan) {
            return new Config(reconstruction, beta, reseedEvery, seed, optimizer, gan, emaDecay, decoderOnly);
        }

        public Config withEma(double decay) {
            return new Config(reconstruction, beta, reseedEvery, seed, optimizer, adversarial, decay, decoderOnly);
        }

        public Config withDecoderOnly(boolean only) {
            return new Config(reconstruction, beta, reseedEvery, seed, optimizer, adversarial, emaDecay, only);
        }
    }

    /**
     * One step's losses and the codebook usage per scale since the last re-seeding.
     *
     * @param generator {@code -mean D(x_rec)}, unweighted (0 while the adversarial loss is off)
     * @param discriminator the hinge loss (0 while off)
     * @param adaptiveWeight {@code lambda * w} (0 while off)
     */
    public record StepResult(long step, double loss, double reconstruction, double vq, double generator,
            double discriminator, double adaptiveWeight, double[] usage, int reseeded) {}

    private final VqVae vae;
    private final Config config;
    private final StraightThroughQuantizer ste;
    private final AdamW optimizer;
    private final CodebookUsage usage;
    private final RecentVectors recent;
    private final TrainingRandom random;
    private final PatchDiscriminator discriminator;
    private final AdamW discriminatorOptimizer;
    private final WeightEma ema;
    private NDManager snapshotBuffers;
    private long step;

    public TokenizerTrainer(VqVae vae, Config config) {
        this.vae = vae;
        this.config = config;
        int channels = vae.config().latentChannels();
        this.ste = new StraightThroughQuantizer(vae.quantizer(), vae.config().schedule(), channels, config.beta());
        Map<String, NDArray> trained = config.decoderOnly() ? vae.decoderWeights() : vae.weights().tensors();
        this.optimizer = new AdamW(trained, config.optimizer());
        this.usage = new CodebookUsage(vae.config().schedule().scales(), vae.config().vocabSize());
        this.recent = new RecentVectors(POOL, channels);
        this.random = new TrainingRandom(config.seed());
        NDManager manager = vae.weights().manager();
        if (config.adversarial().on()) {
            this.discriminator = PatchDiscriminator.random(config.adversarial().width(), manager, config.seed() + 1);
            this.discriminatorOptimizer = new AdamW(discriminator.weights().tensors(), DISCRIMINATOR_OPTIMIZER);
        } else {
            this.discriminator = null;
            this.discriminatorOptimizer = null;
        }
        this.ema = config.emaDecay() > 0 ? new WeightEma(trained, config.emaDecay()) : null;
    }

    public long step() {
        return step;
    }

    public Config config() {
        return config;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    /** The discriminator, or null without the adversarial loss. */
    PatchDiscriminator discriminator() {
        return discriminator;
    }

    /**
     * The weights of the trained model, every tokenizer weight: the moving average of the trained
     * ones when there is one, else the live weights.
     */
    public Map<String, NDArray> modelWeights() {
        if (ema == null) {
            return vae.weights().tensors();
        }
        Map<String, NDArray> model = new LinkedHashMap<>(vae.weights().tensors());
        model.putAll(ema.weights());
        return model;
    }

    /**
     * One optimizer step on {@code images} ({@code [B,3,S,S]} in [-1, 1]) with learning rate
     * {@code lr}. Everything it allocates is freed before it returns.
     *
     * @throws NonFiniteLossException on a NaN or infinite loss, before any weight changes
     */
    public StepResult step(NDArray images, double lr) {
        boolean adversarial = discriminator != null && step >= config.adversarial().start();
        double[] v = new double[6]; // total, reconstruction, vq, generator, discriminator, adaptive weight
        boolean decoderOnly = config.decoderOnly();
        Scope.run(() -> {
            // a frozen encoder runs outside the collector: no graph is kept for weights that do not learn
            StraightThroughQuantizer.Result r = decoderOnly ? ste.forward(vae.features(images)) : null;
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                if (!decoderOnly) {
                    r = ste.forward(vae.features(images));
                }
                NDArray features = vae.decoderFeatures(decoderOnly ? r.fHat().stopGradient() : r.fHat());
                NDArray reconstructed = vae.decoderOutput(features);
                NDArray rec = reconstructionLoss(reconstructed, images);
                NDArray loss = decoderOnly ? rec : rec.add(r.vqLoss());
                v[1] = rec.getFloat();
                v[2] = r.vqLoss().getFloat();
                if (adversarial) {
                    v[5] = config.adversarial().weight() * adaptiveWeight(gc, features.stopGradient(), images);
                    NDArray g = discriminator.forward(reconstructed).mean().neg();
                    v[3] = g.getFloat();
                    loss = loss.add(Functions.scale(g, v[5]));
                }
                v[0] = loss.getFloat();
                NonFiniteLossException.check("tokenizer loss", step + 1, v[0]);
                gc.backward(loss);
                if (adversarial) {
                    discriminatorOptimizer.zeroGradients(); // the generator's loss reached the discriminator too
                    NDArray d = hinge(discriminator.forward(images), discriminator.forward(reconstructed.stopGradient()));
                    v[4] = d.getFloat();
                    NonFiniteLossException.check("discriminator loss", step + 1, v[4]);
                    gc.backward(d);
                }
            }
            for (int s = 0; s < r.indices().size(); s++) {
                usage.record(s, r.indices().get(s).toLongArray());
            }
            if (!decoderOnly) { // the pool only feeds re-seeding, which a frozen codebook never does
                recent.add(r.quantized().toFloatArray(), POOL_PER_BATCH, random);
            }
        });
        optimizer.step(lr);
        if (adversarial) {
            discriminatorOptimizer.step(lr);
        }
        if (ema != null) {
            ema.update(step);
        }
        step++;
        double[] used = usage.usage();
        int reseeded = 0;
        if (config.reseedEvery() > 0 && step % config.reseedEvery() == 0) {
            reseeded = decoderOnly ? 0 : reseedDeadCodes();
            usage.reset();
            if (adversarial) {
                LOG.info("step {}: adaptive weight {}, generator loss {}, discriminator loss {}", step, v[5], v[3], v[4]);
            }
        }
        return new StepResult(step, v[0], v[1], v[2], v[3], v[4], v[5], used, reseeded);
    }

    private NDArray reconstructionLoss(NDArray reconstructed, NDArray images) {
        NDArray diff = reconstructed.sub(images);
        return config.reconstruction() == Reconstruction.L2 ? diff.square().mean() : diff.abs().mean();
    }

    /**
     * VQGAN's {@code calculate_adaptive_weight}: the norm of the reconstruction loss's gradient on the
     * decoder's output convolution over that of the generator loss, clamped to [0, 1e4]. Both
     * gradients are taken on a copy of the last layer's graph (its input detached), which gives the
     * same gradient on its weight without a second backward pass through the whole tokenizer; the
     * gradients it leaves are zeroed.
     */
    private double adaptiveWeight(GradientCollector gc, NDArray features, NDArray images) {
        NDArray last = vae.weights().get(VqVae.DECODER_OUTPUT_WEIGHT);
        gc.backward(reconstructionLoss(vae.decoderOutput(features), images));
        double rec = last.getGradient().norm().getFloat();
        zeroLastLayerGradients();
        gc.backward(discriminator.forward(vae.decoderOutput(features)).mean().neg());
        double g = last.getGradient().norm().getFloat();
        zeroLastLayerGradients();
        return Math.min(Math.max(rec / (g + 1e-4), 0), 1e4);
    }

    /** The adaptive weight (without the factor w) the next step would use on {@code images}; for tests. */
    double adaptiveWeight(NDArray images) {
        double[] out = new double[1];
        Scope.run(() -> {
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray features = vae.decoderFeatures(ste.forward(vae.features(images)).fHat()).stopGradient();
                out[0] = adaptiveWeight(gc, features, images);
            }
            optimizer.zeroGradients();
            discriminatorOptimizer.zeroGradients();
        });
        return out[0];
    }

    private void zeroLastLayerGradients() {
        for (String name : new String[] {VqVae.DECODER_OUTPUT_WEIGHT, DECODER_OUTPUT_BIAS}) {
            vae.weights().get(name).getGradient().set(new NDIndex("..."), 0f);
        }
    }

    /** {@code (mean relu(1 - real) + mean relu(1 + fake)) / 2}. */
    private static NDArray hinge(NDArray real, NDArray fake) {
        NDArray one = Tensors.scalar(real, 1);
        NDArray r = Activation.relu(one.sub(real)).mean();
        NDArray f = Activation.relu(fake.add(one)).mean();
        return Functions.scale(r.add(f), 0.5);
    }

    /** Moves every dead code onto a recent encoder vector (plus a little noise); returns how many. */
    int reseedDeadCodes() {
        int[] dead = usage.deadCodes();
        if (dead.length == 0 || recent.size() == 0) {
            return 0;
        }
        NDArray codebook = vae.weights().get(CODEBOOK);
        NDManager m = codebook.getManager();
        int channels = vae.config().latentChannels();
        for (int code : dead) {
            float[] v = recent.sample(random).clone();
            for (int c = 0; c < channels; c++) {
                v[c] += (float) (1e-3 * random.nextGaussian());
            }
            Scope.run(() -> codebook.set(new NDIndex(code), m.create(v)));
        }
        optimizer.resetRows(CODEBOOK, dead);
        if (ema != null) {
            ema.copyRows(CODEBOOK, dead);
        }
        LOG.info("step {}: re-seeded {} dead codes of {}; usage per scale {}", step, dead.length,
                vae.config().vocabSize(), Arrays.toString(usage.usage()));
        return dead.length;
    }

    /**
     * Everything needed to resume, for {@link ai.mvar.train.TrainingCheckpoint#save}: the re-seeding
     * statistics (codebook usage since the last re-seeding, the pool of recent encoder outputs) are
     * copied into buffers that live until the next snapshot.
     */
    public TrainingState snapshot(DataPosition data) {
        Map<String, NDArray> optim = new LinkedHashMap<>(optimizer.state());
        Map<String, String> extra = new LinkedHashMap<>(Map.of("model", "vqvae", "config", vae.config().toString()));
        if (discriminator != null) {
            discriminatorOptimizer.state().forEach((k, a) -> optim.put(DISCRIMINATOR + k, a));
            extra.put(DISCRIMINATOR_STEPS, Long.toString(discriminatorOptimizer.steps()));
        }
        if (snapshotBuffers != null) {
            snapshotBuffers.close();
        }
        snapshotBuffers = vae.weights().manager().newSubManager();
        Map<String, NDArray> buffers = Map.of(
                USAGE, Tensors.of(snapshotBuffers, usage.counts()),
                POOL_ROWS, Tensors.of(snapshotBuffers, recent.rows(),
                        new Shape(recent.capacity(), vae.config().latentChannels())),
                POOL_POSITION, Tensors.of(snapshotBuffers, new long[] {recent.size(), recent.next()}));
        return new TrainingState(step, resumableWeights(), optim, buffers, optimizer.steps(), data,
                Map.of("reseed", random.state()), extra);
    }

    /** Continues from a checkpoint: weights, discriminator, average, optimizers, step counter and generator. */
    public void restore(TrainingState state) {
        state.restoreWeights(resumableWeights());
        optimizer.restore(state.optimizer(), state.optimizerSteps());
        if (discriminator != null) {
            Map<String, NDArray> own = new LinkedHashMap<>();
            state.optimizer().forEach((k, a) -> {
                if (k.startsWith(DISCRIMINATOR)) {
                    own.put(k.substring(DISCRIMINATOR.length()), a);
                }
            });
            String steps = state.extra().get(DISCRIMINATOR_STEPS);
            discriminatorOptimizer.restore(own, steps == null ? 0 : Long.parseLong(steps));
        }
        NDArray counts = state.buffers().get(USAGE);
        if (counts != null) {
            usage.restore(counts.toLongArray());
            long[] position = state.buffers().get(POOL_POSITION).toLongArray();
            recent.restore(state.buffers().get(POOL_ROWS).toFloatArray(), (int) position[0], (int) position[1]);
        } else {
            LOG.warn("the checkpoint has no codebook usage or encoder pool (an older format):"
                    + " dead-code statistics start afresh");
        }
        step = state.step();
        Long r = state.random().get("reseed");
        if (r != null) {
            random.restore(r);
        }
    }

    /** The tokenizer's weights, the discriminator's ({@code discriminator.*}) and the average ({@code ema.*}). */
    private Map<String, NDArray> resumableWeights() {
        Map<String, NDArray> all = new LinkedHashMap<>(vae.weights().tensors());
        if (discriminator != null) {
            discriminator.weights().tensors().forEach((k, a) -> all.put(DISCRIMINATOR + k, a));
        }
        if (ema != null) {
            ema.weights().forEach((k, a) -> all.put(EMA + k, a));
        }
        return all;
    }

    @Override
    public void close() {
        if (snapshotBuffers != null) {
            snapshotBuffers.close();
        }
        optimizer.close();
        if (discriminator != null) {
            discriminatorOptimizer.close();
            discriminator.close();
        }
        if (ema != null) {
            ema.close();
        }
    }
}
