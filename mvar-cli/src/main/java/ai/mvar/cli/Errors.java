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
            return firstLine(w.getMessage()) + " " + summary(w);
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
        String first = firstLine(message);
        return first.equals(message.strip()) ? first : first + " (--verbose shows all)";
    }

    private static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
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
