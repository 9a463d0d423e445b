package ai.mvar.checkpoint;

import static ai.mvar.testing.FixtureSet.require;
import static ai.mvar.testing.Tolerance.assertParity;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trainer checkpoint imported against the transformer's own spec loads and reproduces the
 * reference logits of the fixture set it was saved from, whichever other sets the folder holds.
 */
class TransformerImportTest {

    @Test
    void importedTrainerCheckpointReproducesTheReferenceLogits(@TempDir Path dir) throws Exception {
        FixtureSet set = ReferenceFixtures.checkpointSet();
        TransformerConfig config = set.transformerConfig();
        Path out = dir.resolve("mvar.safetensors");
        CheckpointImporter.Report report = CheckpointImporter.importCheckpoint(
                ReferenceFixtures.file("tiny-mvar-trainer.pth"), null, Transformer.spec(config),
                Map.of("name", set.name()), out);
        assertTrue(report.droppedBuffers().contains("attn_bias_for_masking"), report.droppedBuffers().toString());
        try (NDManager m = Torch.newManager();
                StateDict ref = set.mvarTensors(m.newSubManager());
                Transformer mvar = Transformer.load(config, SafeTensorsReader.readAll(out, m.newSubManager()))) {
            assertParity(mvar.logits(require(ref, "in.label"), require(ref, "out.x_in"), 0, config.refineStep(), Mode.MVAR),
                    require(ref, "out.logits.block"), set + " imported out.logits.block");
        }
    }
}
