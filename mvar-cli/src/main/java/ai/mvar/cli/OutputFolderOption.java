package ai.mvar.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code -o/--out <folder>}: where a command writes its files. Each command names its own default
 * (in its help text) and passes it to {@link #folder}.
 */
public final class OutputFolderOption {
    @Option(names = {"-o", "--out"}, paramLabel = "<folder>",
            description = "Output folder (created if needed).")
    Path value;

    /** The folder given, else {@code fallback}; not created. */
    public Path folder(Path fallback) {
        return value != null ? value : fallback;
    }

    /** The folder given, else {@code fallback}, created with its parents. */
    public Path create(Path fallback) throws IOException {
        Path dir = folder(fallback);
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IOException(dir + " exists and is not a folder");
        }
        Files.createDirectories(dir);
        return dir;
    }
}
