package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import ai.mvar.config.PresetJson;
import ai.mvar.eval.FashionClassifier;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.data.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mvar eval} end to end with random weights on a tiny 28 px preset and the real test images. */
class EvalCommandTest {
    /** ch_mult [1,1,2]: two downsamplings, so patch_nums 1,2,7 make 28 px images. */
    static final String JSON = """
            {"name": "tiny28",
             "tokenizer": {"vocab_size": 64, "z_channels": 8, "ch": 32, "ch_mult": [1, 1, 2], "num_res_blocks": 1,
                           "share_quant_resi": 4, "quant_resi": 0.5, "patch_nums": [1, 2, 7]},
             "transformer": {"depth": 1, "embed_dim": 64, "num_heads": 2, "num_classes": 10, "refine_step": 2,
                             "kernel_size": 3, "attn_l2_norm": true, "mlp_ratio": 4.0},
             "sampling": {"cfg": 1.5, "top_k": 0, "top_p": 0.9},
             "classes": "fashion-mnist"}
            """;

    @TempDir
    Path dir;

    @Test
    void reportsClassConsistencyAndFrechetDistance() throws Exception {
        assumeTrue(Files.isRegularFile(FashionMnist.DEFAULT_DIR.resolve("t10k-images-idx3-ubyte.gz")),
                "Fashion-MNIST not installed (Debian package dataset-fashion-mnist)");
        Preset preset = PresetJson.parse(JSON, "tiny28");
        Path tok = dir.resolve("tokenizer.safetensors");
        Path model = dir.resolve("mvar.safetensors");
        Path classifier = dir.resolve("classifier.safetensors");
        try (NDManager m = Torch.newManager();
                VqVae vae = VqVae.random(preset.tokenizer(), m, 1);
                Transformer t = Transformer.random(preset.transformer(), m, 2);
                FashionClassifier c = FashionClassifier.random(m, 3)) {
            ModelFile.write(tok, ModelFile.Kind.TOKENIZER, preset, null, vae.weights().tensors(), Map.of());
            ModelFile.write(model, ModelFile.Kind.TRANSFORMER, preset, Mode.MVAR, t.weights().tensors(), Map.of());
            c.save(classifier, Map.of());
        }
        Cli.Result r = Cli.run("eval", "--tokenizer", tok.toString(), "--model", model.toString(), "--classifier",
                classifier.toString(), "--per-class", "2", "--batch", "10").ok();
        assertTrue(r.out().contains("20 samples"), r.out());
        Matcher consistency = Pattern.compile("class consistency\\s+([0-9.]+)").matcher(r.out());
        assertTrue(consistency.find(), r.out());
        double accuracy = Double.parseDouble(consistency.group(1));
        assertTrue(accuracy >= 0 && accuracy <= 1, r.out());
        Matcher frechet = Pattern.compile("Fréchet distance\\s+([0-9.]+)").matcher(r.out());
        assertTrue(frechet.find(), r.out());
        assertTrue(Double.isFinite(Double.parseDouble(frechet.group(1))), r.out());
        assertTrue(r.out().contains("Ankle boot"), r.out());
    }
}
