package ai.mvar.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.plot.LineChart;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResolutionPlotTest {
    @Test
    void drawsEverySeriesIncludingGaps(@TempDir Path dir) throws IOException {
        Path csv = dir.resolve("t.csv");
        Files.writeString(csv, "# ratios\nseries,256,512,1024\nsampling time,0.9,0.8,0.6\nreference time,0.91,,\n");
        Path png = dir.resolve("t.png");
        ResolutionPlot.write(csv, png, "test");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(LineChart.WIDTH, img.getWidth());
        assertEquals(LineChart.HEIGHT, img.getHeight());
        assertTrue(count(img, 0x1f77b4) > 200, "the first series' line is drawn");
        assertTrue(count(img, 0xd62728) > 5, "a series of one point is drawn as a dot");
    }

    @Test
    void badTablesNameFileAndLine(@TempDir Path dir) throws IOException {
        Path csv = dir.resolve("bad.csv");
        Files.writeString(csv, "series,256,512\nx,1\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ResolutionPlot.write(csv, dir.resolve("p.png"), "t"));
        assertTrue(e.getMessage().contains("bad.csv line 2"), e.getMessage());
        Files.writeString(csv, "series,256px\n");
        e = assertThrows(IllegalArgumentException.class, () -> ResolutionPlot.write(csv, dir.resolve("p.png"), "t"));
        assertTrue(e.getMessage().contains("'256px'"), e.getMessage());
    }

    private static int count(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if ((img.getRGB(x, y) & 0xffffff) == rgb) {
                    n++;
                }
            }
        }
        return n;
    }
}
