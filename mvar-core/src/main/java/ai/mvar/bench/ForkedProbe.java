package ai.mvar.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a probe (by default {@link Probe}; any main class that prints {@link Measurement#toLine()})
 * in a fresh JVM: a new process has a fresh native allocator, so its peak resident memory measures
 * the task alone, not what an earlier task left cached.
 */
public final class ForkedProbe {
    private ForkedProbe() {}

    /** Runs {@code Probe args...} and returns its measurement; the child's other output is discarded. */
    public static Measurement run(List<String> args) {
        return run(Probe.class, args);
    }

    /**
     * Runs {@code main args...} on this JVM's class path and returns the measurement it prints; the
     * child's other output is discarded (shown when it fails).
     */
    public static Measurement run(Class<?> main, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx1g");
        cmd.add("-Dai.djl.offline=" + System.getProperty("ai.djl.offline", "true"));
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        if (System.getProperty("jna.library.path") != null) {
            // where DJL finds the CUDA runtime (docs/gpu.md)
            cmd.add("-Djna.library.path=" + System.getProperty("jna.library.path"));
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        try {
            Process p = pb.start();
            String result = null;
            StringBuilder log = new StringBuilder();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith("RESULT ")) {
                        result = line;
                    } else {
                        log.append(line).append('\n');
                    }
                }
            }
            int code = p.waitFor();
            if (code != 0 || result == null) {
                throw new IllegalStateException("probe " + main.getSimpleName() + " " + args + " failed (exit " + code + "):\n" + log);
            }
            return Measurement.parse(result);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a probe JVM", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
