package ai.mvar.plot;

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
import java.util.Map;

/**
 * A PNG line chart on linear axes: named series of points, a legend inside the frame's top-right
 * corner, the y range's ends and labelled x ticks. Drawn with java.awt into an off-screen image,
 * which needs no display. Non-finite points are skipped and the line joins across them.
 */
public final class LineChart {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 540;
    private static final int MARGIN = 60;

    private LineChart() {}

    /**
     * One curve.
     *
     * @param stroke line width in pixels
     */
    public record Series(String name, double[] x, double[] y, Color color, float stroke) {
        public Series {
            if (x.length != y.length) {
                throw new IllegalArgumentException("series " + name + ": " + x.length + " x values for " + y.length + " y values");
            }
            x = x.clone();
            y = y.clone();
        }
    }

    /**
     * Draws {@code series} into {@code png}: the first series is drawn last (on top) and heads the
     * legend. {@code xTicks} labels x positions; {@code yFrom}/{@code yTo} widen the y range to
     * include them (NaN: the data's own range).
     */
    public static void write(Path png, String title, List<Series> series, Map<Double, String> xTicks, double yFrom,
            double yTo) throws IOException {
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
            Range xs = Range.of(series, true, Double.NaN, Double.NaN);
            Range ys = Range.of(series, false, yFrom, yTo);
            if (xs != null && ys != null) {
                draw(g, series, xTicks, xs, ys);
            }
        } finally {
            g.dispose();
        }
        ImageGrid.writePng(img, png);
    }

    private static void draw(Graphics2D g, List<Series> series, Map<Double, String> xTicks, Range xs, Range ys) {
        g.drawString(String.format("%.4g", ys.hi), 4, MARGIN + 4);
        g.drawString(String.format("%.4g", ys.lo), 4, HEIGHT - MARGIN + 4);
        for (Map.Entry<Double, String> tick : xTicks.entrySet()) {
            int x = xs.pixel(tick.getKey(), MARGIN, WIDTH - MARGIN);
            String label = tick.getValue();
            int at = Math.max(0, Math.min(WIDTH - g.getFontMetrics().stringWidth(label), x - g.getFontMetrics().stringWidth(label) / 2));
            g.drawLine(x, HEIGHT - MARGIN, x, HEIGHT - MARGIN + 4);
            g.drawString(label, at, HEIGHT - MARGIN + 18);
        }
        for (int i = series.size() - 1; i >= 0; i--) {
            Series s = series.get(i);
            g.setColor(s.color());
            g.setStroke(new BasicStroke(s.stroke()));
            int px = -1;
            int py = -1;
            for (int p = 0; p < s.x().length; p++) {
                if (!Double.isFinite(s.x()[p]) || !Double.isFinite(s.y()[p])) {
                    continue;
                }
                int x = xs.pixel(s.x()[p], MARGIN, WIDTH - MARGIN);
                int y = ys.pixel(s.y()[p], HEIGHT - MARGIN, MARGIN);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                } else {
                    g.fillOval(x - 2, y - 2, 5, 5); // a series of one point stays visible
                }
                px = x;
                py = y;
            }
            g.drawString(s.name(), WIDTH - MARGIN - 6 - g.getFontMetrics().stringWidth(s.name()), MARGIN + 14 * (i + 1));
        }
    }

    /** The finite range of the series' x or y values, widened to {@code from}/{@code to}; null if empty. */
    private record Range(double lo, double hi) {
        static Range of(List<Series> series, boolean x, double from, double to) {
            double lo = Double.isFinite(from) ? from : Double.POSITIVE_INFINITY;
            double hi = Double.isFinite(to) ? to : Double.NEGATIVE_INFINITY;
            for (Series s : series) {
                for (double v : x ? s.x() : s.y()) {
                    if (Double.isFinite(v)) {
                        lo = Math.min(lo, v);
                        hi = Math.max(hi, v);
                    }
                }
            }
            if (lo > hi) {
                return null;
            }
            return new Range(lo, hi > lo ? hi : lo + 1);
        }

        int pixel(double v, int atLo, int atHi) {
            return (int) Math.round(atLo + (v - lo) / (hi - lo) * (atHi - atLo));
        }
    }
}
