package ai.mvar.nn;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Resident memory of this process, native allocations included, from Linux's {@code /proc}: the
 * PyTorch engine allocates outside the Java heap, so heap statistics would miss it.
 */
public final class ProcessMemory {
    private static final Path STATUS = Paths.get("/proc/self/status");
    private static final Path CLEAR_REFS = Paths.get("/proc/self/clear_refs");

    private ProcessMemory() {}

    /** Whether this platform reports process memory (Linux). */
    public static boolean available() {
        return Files.isReadable(STATUS);
    }

    /** Current resident set size in bytes. */
    public static long residentBytes() {
        return field("VmRSS:");
    }

    /** Peak resident set size in bytes since start or the last {@link #resetPeak()}. */
    public static long peakResidentBytes() {
        return field("VmHWM:");
    }

    /**
     * Returns the C heap's free pages to the system ({@code malloc_trim(0)}), so that memory freed
     * by earlier work no longer counts as resident and cannot hide what the next task needs: a
     * peak measured after it is the task's own. Does nothing where the C library has no
     * {@code malloc_trim} (not glibc).
     *
     * @return whether memory was returned
     */
    public static boolean trimNativeHeap() {
        try {
            Function trim = NativeLibrary.getInstance("c").getFunction("malloc_trim");
            return trim.invokeInt(new Object[] {0}) != 0;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** Starts a new peak measurement from the current resident size. */
    public static void resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
        } catch (IOException e) {
            throw new IllegalStateException("cannot reset the peak resident size via " + CLEAR_REFS, e);
        }
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS, StandardCharsets.US_ASCII)) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
            throw new IllegalStateException(STATUS + " has no " + name);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + STATUS, e);
        }
    }
}
