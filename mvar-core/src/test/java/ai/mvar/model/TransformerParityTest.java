package ai.mvar.model;

import static ai.mvar.testing.FixtureSet.require;
import static ai.mvar.testing.Tolerance.assertParity;

import ai.djl.ndarray.NDManager;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import ai.mvar.tokenizer.ScaleSchedule;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Teacher-forced logits of MVAR (block-diagonal and neighbourhood) and VAR (block-causal) match the reference. */
class TransformerParityTest {

    static List<FixtureSet> sets() {
        return ReferenceFixtures.sets();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void mvarLogitsMatchTheReference(FixtureSet set) {
        try (NDManager manager = Torch.newManager();
                StateDict ref = set.mvarTensors(manager.newSubManager());
                Transformer mvar = Transformer.load(set.transformerConfig(), ref.extract("mvar", manager.newSubManager()))) {
            TransformerConfig c = set.transformerConfig();
            ScaleSchedule s = c.schedule();
            var labels = require(ref, "in.label");
            var xIn = require(ref, "out.x_in");
            assertParity(mvar.logits(labels, xIn, 0, c.refineStep(), Mode.MVAR), require(ref, "out.logits.block"),
                    set + " out.logits.block");
            for (int scale = c.refineStep(); scale < s.scales(); scale++) {
                assertParity(mvar.logits(labels, xIn, scale, scale + 1, Mode.MVAR),
                        require(ref, "out.logits.scale" + scale), set + " out.logits.scale" + scale);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void varLogitsMatchTheReference(FixtureSet set) {
        try (NDManager manager = Torch.newManager();
                StateDict inputs = set.mvarTensors(manager.newSubManager());
                StateDict ref = set.varTensors(manager.newSubManager());
                Transformer var = Transformer.load(set.transformerConfig(), ref.extract("var", manager.newSubManager()))) {
            int scales = set.schedule().scales();
            assertParity(var.logits(require(inputs, "in.label"), require(ref, "out.x_in"), 0, scales, Mode.VAR),
                    require(ref, "out.logits.causal"), set + " out.logits.causal");
        }
    }
}
