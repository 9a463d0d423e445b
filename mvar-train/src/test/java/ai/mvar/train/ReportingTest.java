package ai.mvar.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.sampling.ImageGrid;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportingTest {

    @Test
    void progressShowsRateAndEtaAndThrottlesWithoutATerminal() {
        long[] now = {0};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ProgressBar bar = new ProgressBar("train", 100, 0, out, false, 10, () -> now[0]);
        now[0] = 2_000_000_000L;
        bar.update(10, "loss 1.5");
        now[0] = 3_000_000_000L;
        bar.update(15, "loss 1.4"); // within 10 s of the last line: suppressed
        now[0] = 20_000_000_000L;
        bar.update(100, "");
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(2, lines.length, bytes.toString(StandardCharsets.UTF_8));
        assertTrue(lines[0].contains("10/100 (10.0%) 5.00 it/s ETA 0:00:18  loss 1.5"), lines[0]);
        assertTrue(lines[1].contains("100/100 (100.0%)"), lines[1]);
        assertEquals("1:01:01", ProgressBar.duration(3661));
    }

    @Test
    void metricsRoundTripThroughJsonLinesAndPlot(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("logs/metrics.jsonl");
        List<StepMetrics> written = new ArrayList<>();
        try (MetricsLog log = new MetricsLog(file)) {
            for (int s = 1; s <= 30; s++) {
                StepMetrics m = new StepMetrics(s, 5.0 / s, new double[] {4.0 / s, 6.0 / s}, new double[] {0.1, Double.NaN}, 1e-4);
                log.log(m);
                written.add(m);
            }
        }
        Files.writeString(file, "{\"step\": 31, \"lo", StandardOpenOption.APPEND); // a crash mid-line
        List<StepMetrics> read = MetricsLog.read(file);
        assertEquals(30, read.size());
        assertEquals(written.get(4).loss(), read.get(4).loss());
        assertArrayEquals(written.get(9).scaleLoss(), read.get(9).scaleLoss());
        assertTrue(Double.isNaN(read.get(0).scaleAccuracy()[1]));
        String first = Files.readAllLines(file).get(0);
        assertTrue(first.startsWith("{\"step\":1,\"loss\":5.0,") && first.contains("\"scale_acc\":[0.1,null]"), first);

        Path png = dir.resolve("loss.png");
        LossPlot.write(read, png, "tiny run");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(LossPlot.WIDTH, img.getWidth());
        assertEquals(LossPlot.HEIGHT, img.getHeight());
        assertTrue(pixels(img, 0x000000) > 300, "the total-loss curve is drawn: " + pixels(img, 0) + " black pixels");
        int greyBefore = pixels(img, Color.GRAY.getRGB()); // anti-aliasing of the black curve

        LossPlot.write(read, List.of(new StepMetrics(10, 1.0, new double[] {1, 1}, new double[] {0, 0}, 1e-4),
                new StepMetrics(30, 0.5, new double[] {0.5, 0.5}, new double[] {0, 0}, 1e-4)), png, "tiny run", i -> "scale " + i);
        int grey = pixels(ImageIO.read(png.toFile()), Color.GRAY.getRGB());
        assertTrue(grey > greyBefore + 300, "the held-out line is drawn: " + grey + " grey pixels, " + greyBefore + " before");
    }

    private static int pixels(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if ((img.getRGB(x, y) & 0xffffff) == (rgb & 0xffffff)) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Library code leaves the JVM's global settings (headless mode, ...) to the application. */
    @Test
    void drawingPlotsAndGridsSetsNoSystemProperty(@TempDir Path dir) throws IOException {
        Map<Object, Object> before = settings();
        List<StepMetrics> metrics = List.of(new StepMetrics(1, 2.0, new double[] {2.0}, new double[] {0.5}, 1e-3),
                new StepMetrics(2, 1.0, new double[] {1.0}, new double[] {0.6}, 1e-3));
        LossPlot.write(metrics, dir.resolve("loss.png"), "run");
        BufferedImage tile = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        ImageGrid.writePng(ImageGrid.grid(List.of(tile, tile), List.of("a", "b"), 2), dir.resolve("grid.png"));
        assertEquals(before, settings());
        assertNull(System.getProperty("java.awt.headless"), "set by library code, not by the JVM's command line");
    }

    /** The system properties but the JDK's own ({@code sun.*}, e.g. the font manager AWT records when it loads). */
    private static Map<Object, Object> settings() {
        Map<Object, Object> copy = new HashMap<>(System.getProperties());
        copy.keySet().removeIf(k -> k.toString().startsWith("sun."));
        return copy;
    }

    @Test
    void truncatingMetricsReplacesTheFileAtomicallyWithItsPermissions(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsLog log = new MetricsLog(file)) {
            for (int s = 1; s <= 5; s++) {
                log.log(new StepMetrics(s, 1.0, new double[] {1.0}, new double[] {0.5}, 1e-3));
            }
        }
        var permissions = Files.getPosixFilePermissions(file);
        MetricsLog.truncateAfter(file, 3);
        assertEquals(3, MetricsLog.read(file).size());
        assertEquals(permissions, Files.getPosixFilePermissions(file));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file left");
        }
    }
}
