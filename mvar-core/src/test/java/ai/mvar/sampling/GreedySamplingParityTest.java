package ai.mvar.sampling;

import static ai.mvar.testing.FixtureSet.require;
import static ai.mvar.testing.Tolerance.assertParity;

import ai.djl.ndarray.NDManager;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import ai.mvar.tokenizer.VqVae;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Greedy (top-k 1) guided sampling reproduces the reference's f_hat and images, MVAR and VAR. */
class GreedySamplingParityTest {

    static List<FixtureSet> sets() {
        return ReferenceFixtures.sets();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void mvarGreedySampleMatchesTheReference(FixtureSet set) {
        try (NDManager manager = Torch.newManager();
                VqVae vae = VqVae.load(set.vaeConfig(), ReferenceFixtures.vaeWeights(manager));
                StateDict ref = set.mvarTensors(manager.newSubManager());
                Transformer mvar = Transformer.load(set.transformerConfig(), ref.extract("mvar", manager.newSubManager()));
                Samples samples = new Sampler(mvar, vae).sample(require(ref, "in.label"), greedy(set, Mode.MVAR))) {
            assertParity(samples.fHat(), require(ref, "out.greedy.fhat"), set + " MVAR out.greedy.fhat");
            assertParity(samples.images(), require(ref, "out.greedy.img"), set + " MVAR out.greedy.img");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void varGreedySampleMatchesTheReference(FixtureSet set) {
        try (NDManager manager = Torch.newManager();
                VqVae vae = VqVae.load(set.vaeConfig(), ReferenceFixtures.vaeWeights(manager));
                StateDict inputs = set.mvarTensors(manager.newSubManager());
                StateDict ref = set.varTensors(manager.newSubManager());
                Transformer var = Transformer.load(set.transformerConfig(), ref.extract("var", manager.newSubManager()));
                Samples samples = new Sampler(var, vae).sample(require(inputs, "in.label"), greedy(set, Mode.VAR))) {
            assertParity(samples.images(), require(ref, "out.greedy.img"), set + " VAR out.greedy.img");
        }
    }

    private static SamplingOptions greedy(FixtureSet set, Mode mode) {
        return new SamplingOptions(mode, set.metaDouble("cfg"), set.metaInt("top_k"), 0, 0);
    }
}
