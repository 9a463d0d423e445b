package ai.mvar.train;

import ai.mvar.sampling.ImageGrid;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;

/**
 * A PNG line chart of the loss curves in a metrics log: total loss in black and one coloured line
 * per scale, loss on a linear axis against step. Drawn with java.awt into an off-screen image, which
 * needs no display.
 */
public final class LossPlot {
    static final int WIDTH = 900;
    static final int HEIGHT = 540;
    private static final int MARGIN = 60;

    private LossPlot() {}

    /** Draws {@code metrics} into {@code png}, the per-series curves labelled "scale i". */
    public static void write(List<StepMetrics> metrics, Path png, String title) throws IOException {
        write(metrics, png, title, i -> "scale " + i);
    }

    /** Draws {@code metrics} into {@code png}, series {@code i} labelled {@code label.apply(i)}. */
    public static void write(List<StepMetrics> metrics, Path png, String title, IntFunction<String> label)
            throws IOException {
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            g.setColor(Color.DARK_GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString(title, MARGIN, MARGIN / 2);
            g.drawRect(MARGIN, MARGIN, WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN);
            if (!metrics.isEmpty()) {
                draw(g, metrics, label);
            }
        } finally {
            g.dispose();
        }
        ImageGrid.writePng(img, png);
    }

    private static void draw(Graphics2D g, List<StepMetrics> metrics, IntFunction<String> label) {
        int scales = metrics.get(0).scaleLoss().length;
        double minStep = metrics.get(0).step();
        double maxStep = Math.max(minStep + 1, metrics.get(metrics.size() - 1).step());
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (StepMetrics m : metrics) {
            for (double v : values(m)) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (!(hi > lo)) {
            hi = lo + 1;
        }
        g.drawString(String.format("%.4g", hi), 4, MARGIN + 4);
        g.drawString(String.format("%.4g", lo), 4, HEIGHT - MARGIN + 4);
        g.drawString(Long.toString((long) minStep), MARGIN, HEIGHT - MARGIN + 16);
        g.drawString(Long.toString((long) maxStep), WIDTH - MARGIN - 30, HEIGHT - MARGIN + 16);
        for (int series = scales; series >= 0; series--) { // total loss last, on top
            g.setColor(series == scales ? Color.BLACK : Color.getHSBColor((float) series / Math.max(1, scales), 0.8f, 0.85f));
            g.setStroke(new BasicStroke(series == scales ? 2f : 1f));
            int px = -1;
            int py = -1;
            for (StepMetrics m : metrics) {
                double v = series == scales ? m.loss() : m.scaleLoss()[series];
                if (!Double.isFinite(v)) {
                    continue; // a scale this step did not train (MVAR): join its points across the gap
                }
                int x = (int) Math.round(MARGIN + (m.step() - minStep) / (maxStep - minStep) * (WIDTH - 2 * MARGIN));
                int y = (int) Math.round(HEIGHT - MARGIN - (v - lo) / (hi - lo) * (HEIGHT - 2 * MARGIN));
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                px = x;
                py = y;
            }
            // the legend sits inside the frame's top-right corner, so long series names are not clipped
            String name = series == scales ? "total" : label.apply(series);
            g.drawString(name, WIDTH - MARGIN - 6 - g.getFontMetrics().stringWidth(name), MARGIN + 14 * (scales - series + 1));
        }
    }

    private static double[] values(StepMetrics m) {
        double[] v = java.util.Arrays.copyOf(m.scaleLoss(), m.scaleLoss().length + 1);
        v[v.length - 1] = m.loss();
        return v;
    }
}
