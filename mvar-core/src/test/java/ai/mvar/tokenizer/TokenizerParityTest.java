package ai.mvar.tokenizer;

import static ai.mvar.testing.FixtureSet.require;
import static ai.mvar.testing.Tolerance.assertParity;
import static ai.mvar.testing.Tolerance.assertSameIndices;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The tokenizer reproduces the reference's indices, teacher-forcing inputs and reconstructions. */
class TokenizerParityTest {

    static List<FixtureSet> sets() {
        return ReferenceFixtures.sets();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void encodeDecodeAndTeacherForcingMatchTheReference(FixtureSet set) {
        try (NDManager manager = Torch.newManager();
                VqVae vae = VqVae.load(set.vaeConfig(), ReferenceFixtures.vaeWeights(manager));
                StateDict ref = set.mvarTensors(manager.newSubManager())) {
            NDArray images = require(ref, "in.img");
            List<NDArray> indices = vae.encode(images);
            ScaleSchedule schedule = set.schedule();
            for (int s = 0; s < schedule.scales(); s++) {
                assertSameIndices(indices.get(s), require(ref, "out.idx." + s), set + " out.idx." + s);
            }
            assertParity(vae.teacherForcingInput(indices), require(ref, "out.x_in"), set + " out.x_in");
            assertParity(vae.decodeIndices(indices), require(ref, "out.recon"), set + " out.recon");
        }
    }
}
