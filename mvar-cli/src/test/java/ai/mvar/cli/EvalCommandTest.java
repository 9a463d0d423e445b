package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import ai.mvar.config.PresetJson;
import ai.mvar.eval.FashionClassifier;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Torch;
import ai.mvar.testing.TestData;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.data.Datasets;
import ai.mvar.train.data.FashionMnist;
import ai.mvar.train.data.TokenCacheWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
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
    static Path dir;

    static Path tok;
    static Path model;
    static Path classifier;

    @BeforeAll
    static void models() throws Exception {
        Preset preset = PresetJson.parse(JSON, "tiny28");
        tok = dir.resolve("tokenizer.safetensors");
        model = dir.resolve("mvar.safetensors");
        classifier = dir.resolve("classifier.safetensors");
        try (NDManager m = Torch.newManager();
                VqVae vae = VqVae.random(preset.tokenizer(), m, 1);
                Transformer t = Transformer.random(preset.transformer(), m, 2);
                FashionClassifier c = FashionClassifier.random(m, 3)) {
            ModelFile.write(tok, ModelFile.Kind.TOKENIZER, preset, null, vae.weights().tensors(), Map.of());
            ModelFile.write(model, ModelFile.Kind.TRANSFORMER, preset, Mode.MVAR, t.weights().tensors(), Map.of());
            c.save(classifier, Map.of());
        }
    }

    @Test
    void reportsEveryScoreOfSamplesBesideRealImagesAndReconstructions() throws IOException {
        TestData.assume(FashionMnist.installed(), FashionMnist.DESCRIPTION);
        Path heldOut = dir.resolve("test.tokens");
        try (NDManager m = Torch.newManager(); ModelFile.Loaded vae = ModelFile.read(tok, m, ModelFile.Kind.TOKENIZER, null)) {
            TokenCacheWriter.write(heldOut, Datasets.open(Datasets.FASHION_MNIST, Datasets.Split.TEST, 28).first(12),
                    vae.tokenizer(), m, 5, false, n -> {});
        }
        Cli.Result r = Cli.run("eval", "--tokenizer", tok.toString(), "--model", model.toString(), "--classifier",
                classifier.toString(), "--per-class", "2", "--seeds", "2", "--batch", "10", "--held-out", heldOut.toString(),
                "--complete-from", "0,3").ok();
        for (String row : List.of("real training images", "real test images (held out)", "tokenizer reconstructions of those",
                "MVAR samples, seeds 0-19", "MVAR samples, seeds 20-39")) {
            double[] v = row(r.out(), row);
            assertTrue(v[0] >= 0 && v[0] <= 1 && Double.isFinite(v[1]) && v[1] >= 0, row + " in\n" + r.out());
            assertTrue(v[2] >= 0 && v[2] <= 1 && v[3] >= 0 && v[3] <= 1, row + " in\n" + r.out());
        }
        assertTrue(Pattern.compile("MVAR samples, mean ± std of 2 runs\\s+[0-9.]+ ± [0-9.]+").matcher(r.out()).find(), r.out());
        assertTrue(r.out().contains("40 samples"), r.out());
        assertTrue(r.out().contains("Ankle boot"), r.out());
        // Completing from scale 3 of a 3-scale pyramid keeps every token: the reconstructions again.
        double[] reconstructions = row(r.out(), "tokenizer reconstructions of those");
        for (String run : List.of("MVAR completions from scale 3, seeds 0-19", "MVAR completions from scale 3, seeds 20-39")) {
            double[] v = row(r.out(), run);
            for (int i = 0; i < 4; i++) {
                assertEquals(reconstructions[i], v[i], i == 1 ? 0.02 : 0.002, run + " column " + i + " in\n" + r.out());
            }
        }
        row(r.out(), "MVAR completions from scale 0, seeds 0-19");
        Matcher held = Pattern.compile("held-out cross-entropy on .*test.tokens \\(12 images, teacher-forced\\): ([0-9.]+) per token")
                .matcher(r.out());
        assertTrue(held.find(), r.out());
        assertTrue(Math.abs(Double.parseDouble(held.group(1)) - Math.log(64)) < 1, "random weights over 64 codes:\n" + r.out());
        for (String scale : List.of("scale 0 (1x1)", "scale 1 (2x2)", "scale 2 (7x7)")) {
            assertTrue(Pattern.compile(Pattern.quote(scale) + "  cross-entropy [0-9.]+  token accuracy [0-9.]+").matcher(r.out())
                    .find(), scale + " in\n" + r.out());
        }

        Cli.Result floors = Cli.run("eval", "--tokenizer", tok.toString(), "--model", dir.resolve("none").toString(),
                "--classifier", classifier.toString(), "--per-class", "2", "--no-samples").ok();
        assertTrue(floors.out().contains("tokenizer reconstructions of those"), floors.out());
        assertFalse(floors.out().contains("samples,"), floors.out());

        // Against the training images (to choose settings without the test set) the roles swap.
        Cli.Result validation = Cli.run("eval", "--tokenizer", tok.toString(), "--model", model.toString(), "--classifier",
                classifier.toString(), "--per-class", "2", "--seeds", "1", "--batch", "10", "--reference", "train").ok();
        assertTrue(validation.out().contains("Fréchet distance to the 60,000 training images;"), validation.out());
        for (String row : List.of("real test images", "real training images (held out)", "MVAR samples, seeds 0-19")) {
            row(validation.out(), row);
        }
        assertTrue(validation.out().contains("samples (mean of the runs) / real training images"), validation.out());
        assertTrue(r.out().contains("Fréchet distance to the 10,000 test images;"), r.out());
    }

    /** The four numbers of an output row: consistency, Fréchet distance, precision, recall. */
    private static double[] row(String out, String label) {
        Matcher mt = Pattern.compile(Pattern.quote(label) + "\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9.]+)\\n")
                .matcher(out);
        assertTrue(mt.find(), "no row '" + label + "' in\n" + out);
        return new double[] {Double.parseDouble(mt.group(1)), Double.parseDouble(mt.group(2)),
                Double.parseDouble(mt.group(3)), Double.parseDouble(mt.group(4))};
    }

    @Test
    void errorsBeforeAnyWork() {
        // Every file is checked before the data set is read: no Fashion-MNIST needed.
        Cli.run("eval", "--tokenizer", tok.toString(), "--model", model.toString(), "--classifier", model.toString())
                .failsWithOneLine(1, "eval", "holds a transformer ('mvar.kind'), not a Fashion-MNIST classifier");
        Cli.run("eval", "--tokenizer", tok.toString(), "--model", model.toString(), "--classifier", tok.toString(),
                "--verbose").failsWithStackTrace();
        Cli.run("eval", "--tokenizer", tok.toString(), "--model", model.toString(), "--per-class", "0")
                .failsWithOneLine(2, "eval", "--per-class must be at least 1, got 0");
        Cli.run("eval", "--tokenizer", tok.toString(), "--model", model.toString(), "--top-p", "2")
                .failsWithOneLine(2, "eval", "top-p must be in [0, 1], got 2.0");
        Cli.run("eval", "--tokenizer", tok.toString(), "--model", model.toString(), "--complete-from", "4")
                .failsWithOneLine(2, "eval", "--complete-from 4: the pyramid of tiny28 has scales 0..2 (give 0 to 3)");
        Path missing = dir.resolve("missing.tokens");
        Cli.run("eval", "--tokenizer", tok.toString(), "--model", model.toString(), "--held-out", missing.toString())
                .failsWithOneLine(1, "eval", missing.toString());
        Cli.run("eval", "--tokenizer", tok.toString(), "--no-samples", "--held-out", model.toString())
                .failsWithOneLine(2, "eval", "--held-out and --complete-from score a model: they cannot go"
                        + " with --no-samples");
    }
}
