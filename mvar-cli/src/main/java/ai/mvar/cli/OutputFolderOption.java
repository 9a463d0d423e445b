package ai.mvar.cli;

import java.nio.file.FileSystemException;
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

    /**
     * The folder given, else {@code fallback}. Not created here: the command creates it when it writes
     * its first file, so a command that fails leaves no empty folder behind.
     */
    public Path folder(Path fallback) throws FileSystemException {
        Path dir = value != null ? value : fallback;
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new FileSystemException(dir.toString(), null, "exists and is not a folder");
        }
        return dir;
    }
}
