package ai.mvar.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Writes a file so that it appears complete or not at all: the content goes to a hidden temporary
 * file beside the target ({@code .<name>.<random>.tmp}), is forced to disk, and the temporary file
 * is renamed over the target. A process killed at any moment leaves the old file (or none) and at
 * most a stray temporary file, never a partial file under the final name.
 *
 * <p>The temporary file is created like any new file, so the result has the permissions the
 * user's umask gives (typically {@code -rw-r--r--}), not the owner-only mode of {@link
 * Files#createTempFile}: models and caches are meant to be shared.
 */
public final class AtomicFile {
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFile() {}

    /** What goes into the file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel out) throws IOException;
    }

    /** What goes into the file, written to a stream (the stream must not be closed). */
    @FunctionalInterface
    public interface StreamContent {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Writes {@code target} atomically, creating its parent folders. */
    public static void write(Path target, Content content) throws IOException {
        Path file = target.toAbsolutePath();
        Files.createDirectories(file.getParent());
        Path temp = createSibling(file);
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                content.writeTo(out);
                out.force(true);
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Writes {@code target} atomically from a stream, creating its parent folders. */
    public static void writeStream(Path target, StreamContent content) throws IOException {
        write(target, channel -> {
            OutputStream out = Channels.newOutputStream(channel);
            content.writeTo(out);
            out.flush();
        });
    }

    private static Path createSibling(Path file) throws IOException {
        byte[] token = new byte[6];
        for (int attempt = 0;; attempt++) {
            RANDOM.nextBytes(token);
            Path temp = file.resolveSibling("." + file.getFileName() + "." + HexFormat.of().formatHex(token) + ".tmp");
            try {
                return Files.createFile(temp);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 10) {
                    throw e;
                }
            }
        }
    }
}
