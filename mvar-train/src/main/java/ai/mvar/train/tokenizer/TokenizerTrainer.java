package ai.mvar.train.tokenizer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import ai.mvar.nn.Scope;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.NonFiniteLossException;
import ai.mvar.train.TrainingRandom;
import ai.mvar.train.TrainingState;
import ai.mvar.train.data.DataPosition;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains the multi-scale VQ tokenizer (VAR never published this part): reconstruction loss (L2 or
 * L1) plus the VQ loss of the {@link StraightThroughQuantizer}, AdamW over every weight, codebook
 * usage tracked per scale, and codes no scale used for {@code reseedEvery} steps re-seeded from
 * recent encoder outputs.
 */
public final class TokenizerTrainer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TokenizerTrainer.class);
    static final String CODEBOOK = "quantize.embedding.weight";
    private static final int POOL = 4096;
    private static final int POOL_PER_BATCH = 512;

    /** The reconstruction loss. */
    public enum Reconstruction {
        L2,
        L1
    }

    /**
     * @param reconstruction L2 (mean squared error) or L1 on pixels in [-1, 1]
     * @param beta commitment weight (0.25, as VAR's quantizer)
     * @param reseedEvery re-seed dead codes every this many steps; 0 never
     * @param seed seeds the re-seeding choices
     * @param optimizer AdamW settings
     */
    public record Config(Reconstruction reconstruction, float beta, int reseedEvery, long seed, AdamW.Config optimizer) {
        public static Config defaults(long seed) {
            return new Config(Reconstruction.L2, 0.25f, 200, seed,
                    AdamW.Config.reference().withWeightDecay(0).withMaxGradNorm(10));
        }

        public Config withReseedEvery(int steps) {
            return new Config(reconstruction, beta, steps, seed, optimizer);
        }

        public Config withReconstruction(Reconstruction loss) {
            return new Config(loss, beta, reseedEvery, seed, optimizer);
        }
    }

    /** One step's losses and the codebook usage per scale since the last re-seeding. */
    public record StepResult(long step, double loss, double reconstruction, double vq, double[] usage, int reseeded) {}

    private final VqVae vae;
    private final Config config;
    private final StraightThroughQuantizer ste;
    private final AdamW optimizer;
    private final CodebookUsage usage;
    private final RecentVectors recent;
    private final TrainingRandom random;
    private long step;

    public TokenizerTrainer(VqVae vae, Config config) {
        this.vae = vae;
        this.config = config;
        int channels = vae.config().latentChannels();
        this.ste = new StraightThroughQuantizer(vae.quantizer(), vae.config().schedule(), channels, config.beta());
        this.optimizer = new AdamW(vae.weights().tensors(), config.optimizer());
        this.usage = new CodebookUsage(vae.config().schedule().scales(), vae.config().vocabSize());
        this.recent = new RecentVectors(POOL, channels);
        this.random = new TrainingRandom(config.seed());
    }

    public long step() {
        return step;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    /**
     * One optimizer step on {@code images} ({@code [B,3,S,S]} in [-1, 1]) with learning rate
     * {@code lr}. Everything it allocates is freed before it returns.
     *
     * @throws NonFiniteLossException on a NaN or infinite loss, before any weight changes
     */
    public StepResult step(NDArray images, double lr) {
        double[] losses = new double[3];
        Scope.run(() -> {
            StraightThroughQuantizer.Result r;
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                r = ste.forward(vae.features(images));
                NDArray diff = vae.decodeUnclamped(r.fHat()).sub(images);
                NDArray rec = config.reconstruction() == Reconstruction.L2 ? diff.square().mean() : diff.abs().mean();
                NDArray loss = rec.add(r.vqLoss());
                losses[0] = loss.getFloat();
                NonFiniteLossException.check("tokenizer loss", step + 1, losses[0]);
                losses[1] = rec.getFloat();
                losses[2] = r.vqLoss().getFloat();
                gc.backward(loss);
            }
            for (int s = 0; s < r.indices().size(); s++) {
                usage.record(s, r.indices().get(s).toLongArray());
            }
            recent.add(r.quantized().toFloatArray(), POOL_PER_BATCH, random);
        });
        optimizer.step(lr);
        step++;
        double[] used = usage.usage();
        int reseeded = 0;
        if (config.reseedEvery() > 0 && step % config.reseedEvery() == 0) {
            reseeded = reseedDeadCodes();
            usage.reset();
        }
        return new StepResult(step, losses[0], losses[1], losses[2], used, reseeded);
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
        LOG.info("step {}: re-seeded {} dead codes of {}; usage per scale {}", step, dead.length,
                vae.config().vocabSize(), java.util.Arrays.toString(usage.usage()));
        return dead.length;
    }

    /** Everything needed to resume, for {@link ai.mvar.train.TrainingCheckpoint#save}. */
    public TrainingState snapshot(DataPosition data) {
        return new TrainingState(step, vae.weights().tensors(), optimizer.state(), optimizer.steps(), data,
                Map.of("reseed", random.state()), Map.of("model", "vqvae", "config", vae.config().toString()));
    }

    /** Continues from a checkpoint: weights, optimizer, step counter and generator. */
    public void restore(TrainingState state) {
        state.restoreWeights(vae.weights().tensors());
        optimizer.restore(state.optimizer(), state.optimizerSteps());
        step = state.step();
        Long r = state.random().get("reseed");
        if (r != null) {
            random.restore(r);
        }
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
