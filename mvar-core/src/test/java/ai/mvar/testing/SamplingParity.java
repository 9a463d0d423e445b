package ai.mvar.testing;

import static ai.mvar.testing.FixtureSet.require;
import static ai.mvar.testing.Tolerance.assertParity;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.sampling.Sampler;
import ai.mvar.sampling.Samples;
import ai.mvar.sampling.SamplingOptions;
import ai.mvar.tokenizer.VqVae;

/**
 * The reference's greedy (top-k 1) guided samples of one fixture set, regenerated on any device in
 * fp32: MVAR's f_hat and images, VAR's images, to the parity tolerance.
 */
public final class SamplingParity {
    private SamplingParity() {}

    public static void mvar(FixtureSet set, Device device) {
        try (NDManager manager = Torch.newManager(device);
                VqVae vae = VqVae.load(set.vaeConfig(), ReferenceFixtures.vaeWeights(manager.newSubManager()));
                StateDict ref = set.mvarTensors(manager.newSubManager());
                Transformer mvar = Transformer.load(set.transformerConfig(), ref.extract("mvar", manager.newSubManager()));
                Samples samples = new Sampler(mvar, vae).sample(require(ref, "in.label"), greedy(set, Mode.MVAR))) {
            assertParity(samples.fHat(), require(ref, "out.greedy.fhat"), set + " " + Torch.name(device) + " MVAR out.greedy.fhat");
            assertParity(samples.images(), require(ref, "out.greedy.img"), set + " " + Torch.name(device) + " MVAR out.greedy.img");
        }
    }

    public static void var(FixtureSet set, Device device) {
        try (NDManager manager = Torch.newManager(device);
                VqVae vae = VqVae.load(set.vaeConfig(), ReferenceFixtures.vaeWeights(manager.newSubManager()));
                StateDict inputs = set.mvarTensors(manager.newSubManager());
                StateDict ref = set.varTensors(manager.newSubManager());
                Transformer var = Transformer.load(set.transformerConfig(), ref.extract("var", manager.newSubManager()));
                Samples samples = new Sampler(var, vae).sample(require(inputs, "in.label"), greedy(set, Mode.VAR))) {
            assertParity(samples.images(), require(ref, "out.greedy.img"), set + " " + Torch.name(device) + " VAR out.greedy.img");
        }
    }

    private static SamplingOptions greedy(FixtureSet set, Mode mode) {
        return new SamplingOptions(mode, set.metaDouble("cfg"), set.metaInt("top_k"), 0, 0);
    }
}
