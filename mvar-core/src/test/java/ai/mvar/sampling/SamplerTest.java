package ai.mvar.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.config.Temperature;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Stochastic sampling on a small random model: seeds, batch sizes, filtering and PNG output. */
class SamplerTest {
    private static final ScaleSchedule SCHEDULE = new ScaleSchedule(1, 2, 3, 4);
    private static NDManager manager;
    private static VqVae vae;
    private static Transformer model;

    @BeforeAll
    static void build() {
        manager = Torch.newManager();
        vae = VqVae.random(new VqVaeConfig(32, 8, 32, new int[] {1, 2}, 1, 4, 0.5f, SCHEDULE), manager, 3);
        model = Transformer.random(new TransformerConfig(2, 64, 2, 32, 5, 8, SCHEDULE, 2, 3, true, 4.0), manager, 4);
    }

    @AfterAll
    static void free() {
        model.close();
        vae.close();
        manager.close();
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void sameSeedSameImagesOtherSeedOtherTokens(Mode mode) {
        try (NDManager m = manager.newSubManager()) {
            NDArray labels = m.create(new long[] {0, 1, 2, 3, 4, 0, 1});
            Sampler sampler = new Sampler(model, vae);
            Samples a = sampler.sample(labels, new SamplingOptions(mode, 2.0, 0, 0, 11));
            Samples b = sampler.sample(labels, new SamplingOptions(mode, 2.0, 0, 0, 11));
            Samples c = sampler.sample(labels, new SamplingOptions(mode, 2.0, 0, 0, 12));
            assertEquals(new Shape(7, 3, 8, 8), a.images().getShape());
            assertArrayEquals(a.images().toFloatArray(), b.images().toFloatArray());
            assertFalse(Arrays.equals(a.indices().get(3).toLongArray(), c.indices().get(3).toLongArray()));
            float[] pixels = a.images().toFloatArray();
            for (float p : pixels) {
                assertTrue(p >= 0 && p <= 1, "pixel " + p + " outside [0, 1]");
            }
        }
    }

    /**
     * Completing a pyramid: given every scale it decodes exactly those tokens (another seed changes
     * nothing); given the coarse scales it keeps them and samples the rest; a wrong shape is named.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void completionKeepsTheGivenCoarseScalesAndSamplesTheRest(Mode mode) {
        try (NDManager m = manager.newSubManager()) {
            NDArray labels = m.create(new long[] {0, 3, 4});
            Sampler sampler = new Sampler(model, vae);
            Samples a = sampler.sample(labels, new SamplingOptions(mode, 2.0, 0, 0, 5));
            Samples whole = sampler.complete(labels, a.indices(), new SamplingOptions(mode, 2.0, 0, 0, 99), s -> {});
            assertArrayEquals(a.images().toFloatArray(), whole.images().toFloatArray());
            List<NDArray> coarse = a.indices().subList(0, 2);
            Samples c = sampler.complete(labels, coarse, new SamplingOptions(mode, 2.0, 0, 0, 99), s -> {});
            Samples d = sampler.complete(labels, coarse, new SamplingOptions(mode, 2.0, 0, 0, 98), s -> {});
            for (int s = 0; s < 2; s++) {
                assertArrayEquals(a.indices().get(s).toLongArray(), c.indices().get(s).toLongArray(), "scale " + s);
            }
            assertFalse(Arrays.equals(c.indices().get(3).toLongArray(), d.indices().get(3).toLongArray()),
                    "the finer scales are sampled");
            assertEquals(new Shape(3, 3, 8, 8), c.images().getShape());
            assertArrayEquals(a.indices().get(0).toLongArray(), coarse.get(0).toLongArray(), "the given tokens are not consumed");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sampler.complete(labels,
                    List.of(a.indices().get(1)), SamplingOptions.suggested(mode, 1), s -> {}));
            assertTrue(e.getMessage().contains("coarse scale 0 has shape (3, 4), expected (3, 1)"), e.getMessage());
        }
    }

    @Test
    void topKOneIsTheArgmaxAndTopKLimitsTheChoices() {
        try (NDManager m = manager.newSubManager()) {
            NDArray logits = m.randomNormal(new Shape(3, 50, 32));
            long[] argmax = logits.argMax(-1).toLongArray();
            assertArrayEquals(argmax, new TokenSampler(1, 0, 5).sample(logits, 1).toLongArray());
            long[] top3 = logits.topK(3, -1, true, false).get(1).toLongArray();
            long[] drawn = new TokenSampler(3, 0, 6).sample(logits, 1).toLongArray();
            for (int i = 0; i < drawn.length; i++) {
                long token = drawn[i];
                boolean allowed = token == top3[3 * i] || token == top3[3 * i + 1] || token == top3[3 * i + 2];
                assertTrue(allowed, "token " + token + " at " + i + " is not among the top 3");
            }
        }
    }

    @Test
    void topPKeepsOnlyTheNucleus() {
        try (NDManager m = manager.newSubManager()) {
            // one token holds 90% of the mass: top-p 0.5 must always pick it
            float[] row = new float[10];
            row[7] = 10f;
            NDArray logits = m.create(row).reshape(1, 1, 10).repeat(1, 200);
            long[] drawn = new TokenSampler(0, 0.5, 9).sample(logits, 1).toLongArray();
            assertTrue(Arrays.stream(drawn).allMatch(t -> t == 7), Arrays.toString(drawn));
            long[] free = new TokenSampler(0, 0, 9).sample(m.zeros(new Shape(1, 400, 10)), 1).toLongArray();
            assertEquals(10, Arrays.stream(free).distinct().count(), "uniform logits reach every token");
        }
    }

    @Test
    void temperatureDividesTheLogitsBeforeTopP() {
        try (NDManager m = manager.newSubManager()) {
            NDArray logits = m.randomNormal(new Shape(2, 80, 16));
            // The same seed draws the same uniforms: temperature 2 is sampling logits / 2, top-p included.
            assertArrayEquals(new TokenSampler(0, 0.8, 4).sample(logits.div(2), 1).toLongArray(),
                    new TokenSampler(0, 0.8, 4).sample(logits, 2).toLongArray());
            // Two tokens at 1 : 3; at temperature 2 the odds are 1 : sqrt 3.
            NDArray two = m.create(new float[] {0, (float) Math.log(3)}).reshape(1, 1, 2).repeat(1, 4000);
            assertEquals(0.25, shareOfToken0(new TokenSampler(0, 0, 3).sample(two, 1)), 0.03);
            assertEquals(1 / (1 + Math.sqrt(3)), shareOfToken0(new TokenSampler(0, 0, 3).sample(two, 2)), 0.03);
            assertEquals(0, shareOfToken0(new TokenSampler(0, 0, 3).sample(two, 0.05)), "near 0 it is greedy");
        }
    }

    /** A temperature per scale changes the draws of its own scale only; one value per scale is required. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aTemperaturePerScaleActsOnItsScaleAlone(Mode mode) {
        try (NDManager m = manager.newSubManager()) {
            NDArray labels = m.create(new long[] {0, 1, 2, 3, 4, 0, 1, 2});
            Sampler sampler = new Sampler(model, vae);
            TokenPyramid plain = sampler.generate(labels, new SamplingOptions(mode, 2.0, 0, 0, 5), s -> {});
            TokenPyramid ones = sampler.generate(labels,
                    new SamplingOptions(mode, 2.0, 0, 0, Temperature.parse("1,1,1,1"), 5), s -> {});
            TokenPyramid hotLast = sampler.generate(labels,
                    new SamplingOptions(mode, 2.0, 0, 0, Temperature.parse("1,1,1,4"), 5), s -> {});
            for (int s = 0; s < SCHEDULE.scales(); s++) {
                assertArrayEquals(plain.indices().get(s).toLongArray(), ones.indices().get(s).toLongArray(), "scale " + s);
            }
            for (int s = 0; s < SCHEDULE.scales() - 1; s++) {
                assertArrayEquals(plain.indices().get(s).toLongArray(), hotLast.indices().get(s).toLongArray(), "scale " + s);
            }
            assertFalse(Arrays.equals(plain.indices().get(3).toLongArray(), hotLast.indices().get(3).toLongArray()));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sampler.generate(labels,
                    new SamplingOptions(mode, 2.0, 0, 0, Temperature.parse("1,1,1"), 5), s -> {}));
            assertEquals("temperature gives 3 values for a pyramid of 4 scales: give one value, or one per scale",
                    e.getMessage());
        }
    }

    private static double shareOfToken0(NDArray drawn) {
        return Arrays.stream(drawn.toLongArray()).filter(t -> t == 0).count() / (double) drawn.size();
    }

    @Test
    void writesPngFilesAndALabelledGrid(@TempDir Path dir) throws Exception {
        try (NDManager m = manager.newSubManager()) {
            Samples s = new Sampler(model, vae).sample(m.create(new long[] {1, 2, 3}),
                    new SamplingOptions(Mode.MVAR, 1.5, 0, 0.9, 1));
            List<BufferedImage> tiles = ImageGrid.toImages(s.images());
            Path grid = dir.resolve("grid.png");
            ImageGrid.writePng(ImageGrid.grid(tiles, List.of("one", "two", "three"), 2), grid);
            BufferedImage read = ImageIO.read(grid.toFile());
            assertEquals(2 * (8 + 4) + 4, read.getWidth());
            assertTrue(read.getHeight() > 2 * (8 + 4));
            try (var files = Files.list(dir)) {
                assertEquals(1, files.count(), "no temporary files left behind");
            }
        }
    }

    @Test
    void refusesAMismatchedTokenizerAndBadLabels() {
        try (NDManager m = manager.newSubManager();
                VqVae other = VqVae.random(VqVaeConfig.of(16, 8, 32, SCHEDULE), m, 1)) {
            assertThrows(IllegalArgumentException.class, () -> new Sampler(model, other));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Sampler(model, vae).sample(m.create(new long[] {9}), SamplingOptions.suggested(Mode.MVAR, 1)));
            assertTrue(e.getMessage().contains("class label 9"), e.getMessage());
        }
    }
}
