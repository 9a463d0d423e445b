package ai.mvar.train.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Torch;
import ai.mvar.testing.TestData;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.LrSchedule;
import ai.mvar.train.MetricsLog;
import ai.mvar.train.StepMetrics;
import ai.mvar.train.TinyModels;
import ai.mvar.train.TrainingLoop;
import ai.mvar.train.data.FashionMnist;
import ai.mvar.train.data.ImageDataset;
import ai.mvar.train.data.TokenCache;
import ai.mvar.train.data.TokenCacheWriter;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny MVAR transformer trained for a few dozen steps on the tokens of real Fashion-MNIST images
 * (the first 512 training images at 16 px, tokenized by a random tiny tokenizer): the loss of every
 * kind of iteration falls, and so does the loss on 128 test images it never trained on, scored at
 * each checkpoint.
 */
class FashionMnistTrainingTest {
    private static final int IMAGES = 512;
    private static final int RATIO_K = 2;
    private static final int STEPS = 40; // 10 cycles of 4 iterations: 2 x scales 0-1, scale 2, scale 3

    @TempDir
    Path dir;

    @Test
    void lossFallsOnRealData() throws Exception {
        TestData.assume(FashionMnist.installed(), FashionMnist.DESCRIPTION);
        FashionMnist all = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TRAIN, 16, FashionMnist.Fit.RESIZE);
        ImageDataset first = all.first(IMAGES);
        TransformerConfig tiny = TinyModels.transformer();
        TransformerConfig config = new TransformerConfig(tiny.depth(), tiny.width(), tiny.heads(), tiny.vocabSize(),
                10, tiny.latentChannels(), tiny.schedule(), tiny.refineStep(), tiny.kernelSize(), tiny.attnL2Norm(),
                tiny.mlpRatio());
        Path cache = dir.resolve("fm.tokens");
        Path heldOutCache = dir.resolve("fm-test.tokens");
        Path run = dir.resolve("run");
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 7)) {
            TokenCacheWriter.write(cache, first, vae, m, 128, false, n -> {});
            TokenCacheWriter.write(heldOutCache, FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST, 16,
                    FashionMnist.Fit.RESIZE).first(128), vae, m, 128, false, n -> {});
            TransformerTrainer.Config tc = TransformerTrainer.Config.reference(Mode.MVAR, 1).withRatioK(RATIO_K)
                    .withOptimizer(AdamW.Config.reference().withWeightDecay(0));
            try (TokenCache tokens = TokenCache.open(cache);
                    TokenCache heldOut = TokenCache.open(heldOutCache);
                    Transformer t = Transformer.random(config, m, 3);
                    TransformerTrainer trainer = new TransformerTrainer(t, vae, tc)) {
                TransformerJob job = new TransformerJob(trainer, tokens, 8, 1, false, heldOut, m);
                TrainingLoop.Options options = new TrainingLoop.Options(STEPS,
                        LrSchedule.of(LrSchedule.Shape.COSINE, 5e-3, 4, STEPS), 20, 2, 16);
                TrainingLoop.Result r = TrainingLoop.run(job, options, run, "fashion-mnist test", m);
                assertEquals(STEPS, r.step());
            }
        }

        List<StepMetrics> metrics = MetricsLog.read(run.resolve("metrics.jsonl"));
        assertEquals(STEPS, metrics.size());
        // Group the steps by the scales they trained (MVAR's spans have different loss levels).
        Map<String, List<Double>> bySpan = new LinkedHashMap<>();
        for (StepMetrics s : metrics) {
            StringBuilder key = new StringBuilder();
            for (int k = 0; k < s.scaleLoss().length; k++) {
                if (!Double.isNaN(s.scaleLoss()[k])) {
                    key.append(k);
                }
            }
            bySpan.computeIfAbsent(key.toString(), x -> new ArrayList<>()).add(s.loss());
        }
        assertEquals(List.of("01", "2", "3"), new ArrayList<>(bySpan.keySet()));
        StringBuilder report = new StringBuilder();
        for (Map.Entry<String, List<Double>> e : bySpan.entrySet()) {
            List<Double> l = e.getValue();
            double early = mean(l.subList(0, 3));
            double late = mean(l.subList(l.size() - 3, l.size()));
            report.append(String.format(Locale.ROOT, "scales %s: %.3f -> %.3f; ", e.getKey(), early, late));
            assertTrue(late < 0.95 * early, () -> "loss did not fall: " + e.getKey() + " " + l);
        }
        List<StepMetrics> heldOut = MetricsLog.read(run.resolve("held_out.jsonl"));
        assertEquals(List.of(20L, 40L), heldOut.stream().map(StepMetrics::step).toList(), "one line per checkpoint");
        double untrained = Math.log(TinyModels.tokenizer().vocabSize());
        report.append(String.format(Locale.ROOT, "held-out: %.3f -> %.3f (untrained about %.3f)", heldOut.get(0).loss(),
                heldOut.get(1).loss(), untrained));
        assertTrue(heldOut.get(1).loss() < heldOut.get(0).loss() && heldOut.get(1).loss() < 0.95 * untrained,
                report::toString);
        System.out.println(report);
        BufferedImage plot = ImageIO.read(run.resolve("loss.png").toFile());
        assertNotNull(plot, "loss.png decodes");
        assertTrue(plot.getWidth() > 100 && plot.getHeight() > 100);
        assertTrue(Files.isRegularFile(run.resolve("checkpoints").resolve(String.format("step-%012d.safetensors", STEPS))));
    }

    private static double mean(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

}
