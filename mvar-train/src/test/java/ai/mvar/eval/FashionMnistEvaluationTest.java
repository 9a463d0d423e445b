package ai.mvar.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Torch;
import ai.mvar.sampling.Sampler;
import ai.mvar.sampling.SamplingOptions;
import ai.mvar.testing.TestData;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import ai.mvar.train.data.Augment;
import ai.mvar.train.data.FashionMnist;
import ai.mvar.train.data.ImageDataset;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The evaluation protocol on real Fashion-MNIST slices, with a briefly trained classifier. */
class FashionMnistEvaluationTest {
    private static final int PER_CLASS = 20;
    /** ch_mult [1, 1, 2]: two downsamplings, so patch_nums 1, 2, 7 make 28 px images. */
    private static final VqVaeConfig TOKENIZER = new VqVaeConfig(64, 8, 32, new int[] {1, 1, 2}, 1, 4, 0.5f,
            new ScaleSchedule(1, 2, 7));

    private static ImageDataset train;
    private static ImageDataset test;

    @BeforeAll
    static void data() throws IOException {
        TestData.assume(FashionMnist.installed(), FashionMnist.DESCRIPTION);
        train = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TRAIN, 28, FashionMnist.Fit.PAD).first(2048);
        test = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST, 28, FashionMnist.Fit.PAD).first(1000);
    }

    @Test
    void balancedSubsetsTakeTheSameShareOfEveryClassWithoutOverlap() {
        int[] first = FashionMnistEvaluation.ofEachClass(test, 0, PER_CLASS);
        int[] next = FashionMnistEvaluation.ofEachClass(test, PER_CLASS, PER_CLASS);
        for (int[] subset : List.of(first, next)) {
            int[] perClass = new int[FashionClassifier.CLASSES];
            for (int i : subset) {
                perClass[test.sample(i, Augment.CENTRE).label()]++;
            }
            int[] expected = new int[FashionClassifier.CLASSES];
            Arrays.fill(expected, PER_CLASS);
            assertEquals(Arrays.toString(expected), Arrays.toString(perClass));
        }
        Set<Integer> seen = new HashSet<>();
        Arrays.stream(first).forEach(seen::add);
        assertTrue(Arrays.stream(next).noneMatch(seen::contains), "held-out images are outside the reference");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FashionMnistEvaluation.ofEachClass(test, 0, 500));
        assertTrue(e.getMessage().contains("fewer than 500"), e.getMessage());
    }

    @Test
    void realImagesSitAtTheFloorAndAnUntrainedGeneratorFarAboveIt() {
        try (NDManager m = Torch.newManager();
                FashionClassifier c = ClassifierTraining.train(train, 1, 64, 2e-3, 1, m);
                VqVae vae = VqVae.random(TOKENIZER, m, 3);
                Transformer t = Transformer.random(new TransformerConfig(1, 64, 2, 64, 10, 8, TOKENIZER.schedule(), 2, 3,
                        true, 4.0), m, 4)) {
            FashionMnistEvaluation eval = new FashionMnistEvaluation(c, train, test, PER_CLASS, 50, m);
            Scores realTrain = eval.realOther();
            Scores realTest = eval.realHeldOut();
            Scores blurred = eval.reconstructions(vae);
            for (Scores s : List.of(realTrain, realTest, blurred)) {
                assertEquals(10 * PER_CLASS, s.images());
            }
            for (Scores real : List.of(realTrain, realTest)) {
                assertTrue(real.consistency() > 0.5, "a trained classifier labels real images: " + real);
                assertTrue(real.precision() > 0.5 && real.recall() > 0.5, real.toString());
                assertTrue(blurred.frechet() > 3 * real.frechet(), "random tokenizer " + blurred + " vs real " + real);
                assertTrue(blurred.precision() < real.precision(), "random tokenizer " + blurred + " vs real " + real);
            }
            List<FashionMnistEvaluation.Generated> runs = eval.samples(new Sampler(t, vae),
                    new SamplingOptions(Mode.MVAR, 1.5, 0, 0.9, 7), 2);
            assertEquals(2, runs.size());
            assertEquals(7, runs.get(0).seed());
            assertEquals(7 + 10 * PER_CLASS, runs.get(1).seed(), "seed ranges of runs do not overlap");
            for (FashionMnistEvaluation.Generated g : runs) {
                assertEquals(10 * PER_CLASS, g.scores().images());
                assertTrue(Double.isFinite(g.scores().frechet()) && g.seconds() > 0, g.toString());
            }
            assertNotEquals(runs.get(0).scores().frechet(), runs.get(1).scores().frechet());
            Scores.Spread fd = Scores.Spread.of(runs.stream().map(FashionMnistEvaluation.Generated::scores).toList(),
                    Scores::frechet);
            assertTrue(fd.std() > 0, fd.toString());
        }
    }

    @Test
    void spreadIsTheMeanAndSampleStandardDeviation() {
        List<Scores> runs = List.of(scores(1), scores(2), scores(6));
        Scores.Spread s = Scores.Spread.of(runs, Scores::frechet);
        assertEquals(3, s.mean(), 1e-12);
        assertEquals(Math.sqrt((4 + 1 + 9) / 2.0), s.std(), 1e-12);
        assertEquals(0, Scores.Spread.of(List.of(scores(5)), Scores::frechet).std(), 0);
        assertEquals(0.5, Scores.meanPerClass(runs)[0], 1e-12);
    }

    private static Scores scores(double frechet) {
        return new Scores(10, 0.9, new double[] {0.5, 1}, frechet, 0.7, 0.6);
    }
}
