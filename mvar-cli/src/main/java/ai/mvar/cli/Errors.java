package ai.mvar.cli;

import ai.mvar.nn.WeightMismatchException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.List;

/** Turns any failure into the one line the user sees. */
final class Errors {
    private Errors() {}

    static String oneLine(Throwable ex) {
        Throwable e = ex;
        while (e instanceof UncheckedIOException && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof WeightMismatchException w) {
            return w.getMessage().strip().lines().findFirst().orElse("") + " " + summary(w);
        }
        if (e instanceof NoSuchFileException f) {
            return f.getFile() + ": " + (f.getReason() != null ? f.getReason() : "file not found");
        }
        if (e instanceof AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getFile() + ": " + f.getReason();
        }
        if (e instanceof OutOfMemoryError) {
            return "out of memory (try a smaller --batch)";
        }
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        // The first line; when it ends in a colon (a heading of what follows), with the line after it.
        List<String> lines = message.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        boolean heading = lines.get(0).endsWith(":") && lines.size() > 1;
        String shown = heading ? lines.get(0) + " " + lines.get(1) : lines.get(0);
        return lines.size() > (heading ? 2 : 1) ? shown + " (--verbose shows all)" : shown;
    }

    /** "2 wrong shape, 1 missing: first offender ..." */
    private static String summary(WeightMismatchException w) {
        StringBuilder sb = new StringBuilder();
        String example = null;
        example = part(sb, w.misshaped(), "wrong shape", example);
        example = part(sb, w.missing(), "missing", example);
        example = part(sb, w.unexpected(), "unexpected", example);
        sb.append(" (e.g. ").append(example).append("; --verbose lists all; is it the right preset?)");
        return sb.toString();
    }

    private static String part(StringBuilder sb, List<String> keys, String what, String example) {
        if (keys.isEmpty()) {
            return example;
        }
        if (sb.length() > 0) {
            sb.append(", ");
        }
        sb.append(keys.size()).append(' ').append(what);
        return example != null ? example : what + " " + keys.get(0);
    }
}
