package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.checkpoint.ModelFile;
import ai.mvar.checkpoint.SafeTensorsReader;
import ai.mvar.config.Temperature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mvar set-preset} on the tiny model: a new header over the same tensor bytes. */
class SetPresetCommandTest {
    @TempDir
    static Path dir;

    static TinyModel tiny;
    static Path warm;

    @BeforeAll
    static void create() throws IOException {
        tiny = TinyModel.create(dir);
        warm = dir.resolve("warm.json");
        Files.writeString(warm, TinyModel.JSON.replace("\"top_p\": 0.9}", "\"top_p\": 0, \"temperature\": [1, 1.3, 1.3, 1]}"));
    }

    @Test
    void aNewPresetOverTheSameTensorBytes() throws Exception {
        Path out = dir.resolve("out/mvar.safetensors");
        Cli.Result r = Cli.run("set-preset", tiny.transformer.toString(), "--preset", warm.toString(), "-o", out.toString()).ok();
        assertTrue(r.out().contains("temperature 1.0,1.3,1.3,1.0"), r.out());
        ModelFile.Info before = ModelFile.info(tiny.transformer);
        ModelFile.Info after = ModelFile.info(out);
        assertEquals(Temperature.parse("1,1.3,1.3,1"), after.preset().sampling().temperature());
        assertEquals(0.0, after.preset().sampling().topP());
        assertEquals(before.kind(), after.kind());
        assertEquals(before.mode(), after.mode());
        assertEquals(before.preset().transformer(), after.preset().transformer());
        assertSameTensors(tiny.transformer, out);
        Cli.Result sampled = Cli.run("sample", "--tokenizer", tiny.tokenizer.toString(), "--model", out.toString(),
                "--classes", "cat", "-o", dir.resolve("samples").toString()).ok();
        assertTrue(sampled.out().contains("cfg 1.5, top-k 0, top-p 0.0, temperature 1.0,1.3,1.3,1.0"), sampled.out());
    }

    @Test
    void inPlaceKeepsTheOtherMetadata() throws Exception {
        Path copy = dir.resolve("in-place/tokenizer.safetensors");
        Files.createDirectories(copy.getParent());
        Files.copy(tiny.tokenizer, copy);
        Cli.run("set-preset", copy.toString(), "--preset", warm.toString(), "-o", copy.toString()).ok();
        ModelFile.Info after = ModelFile.info(copy);
        assertEquals(ModelFile.Kind.TOKENIZER, after.kind());
        assertEquals("test", after.extra().get("note"));
        assertEquals(Temperature.parse("1,1.3,1.3,1"), after.preset().sampling().temperature());
        assertSameTensors(tiny.tokenizer, copy);
        try (var files = Files.list(copy.getParent())) {
            assertEquals(List.of(copy), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void aPresetOfAnotherModelIsRefusedAndNothingWritten() throws Exception {
        Path wide = dir.resolve("wide.json");
        Files.writeString(wide, TinyModel.JSON.replace("\"embed_dim\": 64", "\"embed_dim\": 128"));
        Path out = dir.resolve("never/mvar.safetensors");
        Cli.run("set-preset", tiny.transformer.toString(), "--preset", wide.toString(), "-o", out.toString())
                .failsWithOneLine(1, "set-preset", "does not fit preset");
        Cli.run("set-preset", tiny.transformer.toString(), "-o", out.toString()).failsWithOneLine(2, "set-preset", "missing --preset");
        Cli.run("set-preset", dir.resolve("nope.safetensors").toString(), "--preset", warm.toString(), "-o", out.toString())
                .failsWithOneLine(1, "set-preset", "nope.safetensors");
        assertFalse(Files.exists(out));
    }

    private static void assertSameTensors(Path a, Path b) throws IOException {
        try (SafeTensorsReader ra = SafeTensorsReader.open(a); SafeTensorsReader rb = SafeTensorsReader.open(b)) {
            assertEquals(List.copyOf(ra.tensors().keySet()), List.copyOf(rb.tensors().keySet()), "tensor names, in order");
            for (String name : ra.tensors().keySet()) {
                assertArrayEquals(bytes(ra, name), bytes(rb, name), name);
            }
        }
    }

    private static byte[] bytes(SafeTensorsReader reader, String name) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (WritableByteChannel out = Channels.newChannel(buffer)) {
            reader.copyBytes(name, out);
        }
        return buffer.toByteArray();
    }
}
