package ai.mvar.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Use as a library" example, as written: the first {@code java} block of that
 * section is compiled against mvar-core and run in a fresh JVM, in a folder that holds the bundled
 * model as {@code models/fashion-mnist} (as a clone does), so the README cannot drift from the API.
 */
class LibraryExampleTest {
    /** The repository root (tests run in mvar-core/). */
    private static final Path REPO = Path.of("").toAbsolutePath().getParent();

    @Test
    void theReadmeExampleCompilesAndDrawsItsGrid(@TempDir Path dir) throws Exception {
        String readme = Files.readString(REPO.resolve("README.md"), StandardCharsets.UTF_8);
        int section = readme.indexOf("\n## Use as a library");
        assertTrue(section >= 0, "README.md has no '## Use as a library' section");
        Matcher block = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(block.find(section), "no ```java block in the README's library section");
        String source = block.group(1);
        Matcher name = Pattern.compile("public class (\\w+)").matcher(source);
        assertTrue(name.find(), "the example is a public class with a main method:\n" + source);

        Path src = dir.resolve("src").resolve(name.group(1) + ".java");
        Path classes = dir.resolve("classes");
        Files.createDirectories(src.getParent());
        Files.createDirectories(classes);
        Files.writeString(src, source, StandardCharsets.UTF_8);
        String classPath = System.getProperty("java.class.path");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        boolean compiled = javac.getTask(diagnostics, null, null,
                List.of("-classpath", classPath, "-d", classes.toString()), null,
                javac.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(src.toFile()))
                .call();
        assertTrue(compiled, "the README example does not compile:\n" + diagnostics);

        Path work = dir.resolve("work");
        Files.createDirectories(work.resolve("models"));
        Files.createSymbolicLink(work.resolve("models/fashion-mnist"), REPO.resolve("models/fashion-mnist"));
        Path log = dir.resolve("run.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classes + File.pathSeparator + classPath, name.group(1))
                .directory(work.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("the README example did not finish in 5 minutes:\n" + read(log));
        }
        assertEquals(0, p.exitValue(), "the README example failed:\n" + read(log));

        List<Path> written;
        try (var files = Files.list(work)) {
            written = files.filter(f -> f.toString().endsWith(".png")).toList();
        }
        assertEquals(1, written.size(), "the example writes one grid: " + written + "\n" + read(log));
        BufferedImage grid = ImageIO.read(written.get(0).toFile());
        assertNotNull(grid, written.get(0) + " is not a PNG");
        assertTrue(grid.getWidth() > 3 * 28 && grid.getHeight() > 28, "a grid of three tiles: " + grid.getWidth()
                + "x" + grid.getHeight());
    }

    private static String read(Path log) throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }
}
