package ai.mvar.train;

import java.io.PrintStream;
import java.util.function.LongSupplier;

/**
 * Progress on stderr with rate and ETA. On a terminal it redraws one line in place; otherwise (logs,
 * CI) it prints a plain line at most every {@code interval} seconds and at the end, so log files
 * stay readable.
 */
public final class ProgressBar {
    private static final int WIDTH = 24;

    private final String label;
    private final long total;
    private final PrintStream out;
    private final boolean interactive;
    private final LongSupplier nanoTime;
    private final long intervalNanos;
    private final long startNanos;
    private final long startDone;
    private long lastPrint = Long.MIN_VALUE;

    ProgressBar(String label, long total, long alreadyDone, PrintStream out, boolean interactive,
            double intervalSeconds, LongSupplier nanoTime) {
        this.label = label;
        this.total = total;
        this.out = out;
        this.interactive = interactive;
        this.nanoTime = nanoTime;
        this.intervalNanos = (long) (intervalSeconds * 1e9);
        this.startNanos = nanoTime.getAsLong();
        this.startDone = alreadyDone;
    }

    /** A bar on stderr; {@code alreadyDone} is where a resumed run starts, so the rate stays true. */
    public static ProgressBar stderr(String label, long total, long alreadyDone) {
        return new ProgressBar(label, total, alreadyDone, System.err, System.console() != null, 10, System::nanoTime);
    }

    /** Reports {@code done} of the total, with a short status such as the current loss. */
    public void update(long done, String status) {
        long now = nanoTime.getAsLong();
        boolean finished = done >= total;
        if (!interactive && !finished && lastPrint != Long.MIN_VALUE && now - lastPrint < intervalNanos) {
            return;
        }
        lastPrint = now;
        String line = line(done, now, status);
        if (interactive) {
            out.print("\r" + line + (finished ? "\n" : ""));
        } else {
            out.println(line);
        }
        out.flush();
    }

    String line(long done, long now, String status) {
        double seconds = (now - startNanos) / 1e9;
        double rate = seconds > 0 ? (done - startDone) / seconds : 0;
        double fraction = total > 0 ? Math.min(1, (double) done / total) : 1;
        int filled = (int) Math.round(fraction * WIDTH);
        String eta = rate > 0 ? duration((total - done) / rate) : "?";
        return String.format("%s [%s%s] %d/%d (%.1f%%) %.2f it/s ETA %s%s", label, "#".repeat(filled),
                "-".repeat(WIDTH - filled), done, total, 100 * fraction, rate, eta,
                status.isEmpty() ? "" : "  " + status);
    }

    static String duration(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
