package ai.mvar.bench;

import ai.mvar.plot.LineChart;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The resolution-scaling plot of {@code docs/benchmarks.md}: MVAR / VAR ratios (time, peak memory)
 * against image size, one line per measured quantity, read from a small CSV.
 *
 * <p>Usage: {@code ResolutionPlot <table.csv> <plot.png> [title]}. The CSV's first line is
 * {@code series,<px>,<px>,...}; each further line a series name and its ratio at each size, an empty
 * cell where it was not measured; lines starting with {@code #} are comments. Sizes are spaced by
 * their logarithm (256, 512, 1024 px evenly), and the y axis always shows 0 and 1 (parity).
 */
public final class ResolutionPlot {
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b), new Color(0x17becf), new Color(0x7f7f7f)};

    private ResolutionPlot() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: ResolutionPlot <table.csv> <plot.png> [title]");
            System.exit(2);
        }
        String title = args.length > 2 ? args[2] : "MVAR / VAR against image size";
        write(Path.of(args[0]), Path.of(args[1]), title);
    }

    /** Reads {@code csv} and draws it into {@code png}. */
    public static void write(Path csv, Path png, String title) throws IOException {
        List<String> lines = Files.readAllLines(csv).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        if (lines.isEmpty()) {
            throw new IllegalArgumentException(csv + ": no header line 'series,<px>,...'");
        }
        String[] header = lines.get(0).split(",", -1);
        double[] x = new double[header.length - 1];
        Map<Double, String> ticks = new TreeMap<>();
        for (int i = 1; i < header.length; i++) {
            int px = parse(csv, 1, header[i].trim());
            x[i - 1] = Math.log(px) / Math.log(2);
            ticks.put(x[i - 1], px + " px");
        }
        List<LineChart.Series> series = new ArrayList<>();
        for (int l = 1; l < lines.size(); l++) {
            String[] cells = lines.get(l).split(",", -1);
            if (cells.length != header.length) {
                throw new IllegalArgumentException(csv + " line " + (l + 1) + ": " + cells.length + " cells, the header has "
                        + header.length);
            }
            double[] y = new double[x.length];
            for (int i = 1; i < cells.length; i++) {
                String c = cells[i].trim();
                y[i - 1] = c.isEmpty() ? Double.NaN : Double.parseDouble(c);
            }
            String name = cells[0].trim();
            series.add(new LineChart.Series(name, x, y, PALETTE[(l - 1) % PALETTE.length],
                    name.startsWith("reference") ? 1f : 2.5f));
        }
        LineChart.write(png, title, series, ticks, 0, 1);
    }

    private static int parse(Path csv, int line, String cell) {
        try {
            return Integer.parseInt(cell);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(csv + " line " + line + ": '" + cell + "' is not an image size in px");
        }
    }
}
