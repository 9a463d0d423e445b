package ai.mvar.train;

import ai.mvar.io.AtomicFile;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Training metrics as JSON lines, one object per step: {@code {"step":..,"loss":..,"lr":..,
 * "scale_loss":[..],"scale_acc":[..]}} (non-finite values as {@code null}). Appends (a resumed run
 * continues the same file) and flushes every line, so the file can be tailed and survives a crash.
 */
public final class MetricsLog implements AutoCloseable {
    private final BufferedWriter out;

    public MetricsLog(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    public void log(StepMetrics m) throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("step", m.step());
        o.addProperty("loss", m.loss());
        o.addProperty("lr", m.lr());
        o.add("scale_loss", array(m.scaleLoss()));
        o.add("scale_acc", array(m.scaleAccuracy()));
        out.write(o.toString());
        out.newLine();
        out.flush();
    }

    /** Appends one line to {@code file} (created if missing) and closes it again. */
    public static void append(Path file, StepMetrics m) throws IOException {
        try (MetricsLog log = new MetricsLog(file)) {
            log.log(m);
        }
    }

    /** {@link #read}, or nothing when the file does not exist. */
    public static List<StepMetrics> readIfPresent(Path file) throws IOException {
        return Files.exists(file) ? read(file) : List.of();
    }

    /**
     * Reads every line of a metrics file. Lines that are not a JSON object (a line cut short by a
     * crash) are skipped wherever they stand.
     */
    public static List<StepMetrics> read(Path file) throws IOException {
        List<StepMetrics> all = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonObject o;
            try {
                o = JsonParser.parseString(line).getAsJsonObject();
            } catch (RuntimeException e) {
                continue;
            }
            all.add(new StepMetrics(o.get("step").getAsLong(), number(o.get("loss")), doubles(o.getAsJsonArray("scale_loss")),
                    doubles(o.getAsJsonArray("scale_acc")), number(o.get("lr"))));
        }
        return all;
    }

    /**
     * Drops the lines of steps after {@code step} (written after the checkpoint a resumed run
     * starts from) and every line that does not parse (cut short by a crash), replacing the file
     * atomically; the file is left untouched when nothing is dropped, and a missing file stays
     * missing.
     */
    public static void truncateAfter(Path file, long step) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        List<String> keep = new ArrayList<>();
        boolean dropped = false;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            boolean ok;
            try {
                ok = JsonParser.parseString(line).getAsJsonObject().get("step").getAsLong() <= step;
            } catch (RuntimeException e) {
                ok = false; // a line cut short by a crash
            }
            if (ok) {
                keep.add(line);
            } else {
                dropped = true;
            }
        }
        if (dropped) {
            AtomicFile.writeStream(file, out -> {
                for (String line : keep) {
                    out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                }
            });
        }
    }

    private static JsonArray array(double[] values) {
        JsonArray a = new JsonArray();
        for (double v : values) {
            // JSON has no NaN: store non-finite values as null.
            if (Double.isFinite(v)) {
                a.add(v);
            } else {
                a.add((Number) null);
            }
        }
        return a;
    }

    private static double number(JsonElement e) {
        return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
    }

    private static double[] doubles(JsonArray a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = number(a.get(i));
        }
        return v;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
