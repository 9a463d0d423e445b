package ai.mvar.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {
    @TempDir
    Path dir;

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void writesIntoNewFoldersWithThePermissionsOfAnyNewFile() throws IOException {
        Path target = dir.resolve("a/b/model.bin");
        AtomicFile.write(target, out -> out.write(ByteBuffer.wrap(new byte[] {1, 2, 3})));
        assertEquals(3, Files.size(target));
        Path plain = Files.createFile(dir.resolve("plain"));
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(target),
                "umask permissions, not the owner-only -rw------- of Files.createTempFile");
        assertEquals(List.of(target, plain), files());
    }

    @Test
    void aFailedWriteKeepsTheOldFileAndLeavesNothingBehind() throws IOException {
        Path target = dir.resolve("metrics.jsonl");
        Files.writeString(target, "old");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.writeStream(target, out -> {
            out.write("half of the new".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals("old", Files.readString(target));
        assertEquals(List.of(target), files());
    }

    @Test
    void replacesTheOldFile() throws IOException {
        Path target = dir.resolve("grid.png");
        Files.writeString(target, "old");
        AtomicFile.writeStream(target, out -> out.write("new".getBytes(StandardCharsets.UTF_8)));
        assertEquals("new", Files.readString(target));
        assertEquals(List.of(target), files());
    }
}
