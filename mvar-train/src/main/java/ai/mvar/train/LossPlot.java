package ai.mvar.train;

import ai.mvar.plot.LineChart;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * A PNG line chart of the loss curves in a metrics log: total loss in black and one coloured line
 * per scale, loss on a linear axis against step, and the held-out loss (when scored) as a thick grey
 * line through its points. A scale a step did not train (MVAR) is a gap its line joins across.
 */
public final class LossPlot {
    static final int WIDTH = LineChart.WIDTH;
    static final int HEIGHT = LineChart.HEIGHT;

    private LossPlot() {}

    /** Draws {@code metrics} into {@code png}, the per-series curves labelled "scale i". */
    public static void write(List<StepMetrics> metrics, Path png, String title) throws IOException {
        write(metrics, png, title, i -> "scale " + i);
    }

    /** Draws {@code metrics} into {@code png}, series {@code i} labelled {@code label.apply(i)}. */
    public static void write(List<StepMetrics> metrics, Path png, String title, IntFunction<String> label)
            throws IOException {
        write(metrics, List.of(), png, title, label);
    }

    /** As {@link #write(List, Path, String, IntFunction)}, with the total loss of {@code heldOut} (none when empty). */
    public static void write(List<StepMetrics> metrics, List<StepMetrics> heldOut, Path png, String title,
            IntFunction<String> label) throws IOException {
        int scales = metrics.isEmpty() ? 0 : metrics.get(0).scaleLoss().length;
        double[] steps = metrics.stream().mapToDouble(StepMetrics::step).toArray();
        List<LineChart.Series> series = new ArrayList<>();
        series.add(new LineChart.Series("total", steps, metrics.stream().mapToDouble(StepMetrics::loss).toArray(),
                Color.BLACK, 2f));
        for (int s = scales - 1; s >= 0; s--) {
            int scale = s;
            series.add(new LineChart.Series(label.apply(s), steps,
                    metrics.stream().mapToDouble(m -> m.scaleLoss()[scale]).toArray(),
                    Color.getHSBColor((float) s / Math.max(1, scales), 0.8f, 0.85f), 1f));
        }
        if (!heldOut.isEmpty()) {
            series.add(new LineChart.Series("held-out", heldOut.stream().mapToDouble(StepMetrics::step).toArray(),
                    heldOut.stream().mapToDouble(StepMetrics::loss).toArray(), Color.GRAY, 3f));
        }
        Map<Double, String> ticks = new TreeMap<>();
        for (double step : metrics.isEmpty() ? new double[0] : new double[] {steps[0], steps[steps.length - 1]}) {
            ticks.put(step, Long.toString((long) step));
        }
        LineChart.write(png, title, series, ticks, Double.NaN, Double.NaN);
    }
}
