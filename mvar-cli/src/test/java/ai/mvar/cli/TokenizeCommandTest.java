package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.train.data.TokenCache;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mvar tokenize} on a tiny ImageNet-layout folder with one corrupt file. */
class TokenizeCommandTest {
    @TempDir
    static Path dir;

    static TinyModel tiny;
    static Path images;

    @BeforeAll
    static void setUp() throws Exception {
        tiny = TinyModel.create(dir);
        images = dir.resolve("images");
        SplittableRandom r = new SplittableRandom(1);
        String[] classes = {"cat", "dog", "dolphin"};
        for (String c : classes) {
            Files.createDirectories(images.resolve("train").resolve(c));
            for (int i = 0; i < 2; i++) {
                BufferedImage img = new BufferedImage(20, 24, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < img.getHeight(); y++) {
                    for (int x = 0; x < img.getWidth(); x++) {
                        img.setRGB(x, y, r.nextInt(1 << 24));
                    }
                }
                ImageIO.write(img, "png", images.resolve("train").resolve(c).resolve(i + ".png").toFile());
            }
        }
        Files.write(images.resolve("train/dog/broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
    }

    @Test
    void writesATokenCacheAndReportsUnreadableFiles() throws Exception {
        Path cache = dir.resolve("out/tokens.bin");
        Cli.Result r = Cli.run("tokenize", "--tokenizer", tiny.tokenizer.toString(), "--data", images.toString(),
                "--flip", "--batch", "3", "--out", cache.toString()).ok();
        assertTrue(r.out().contains("skipped 1 unreadable file(s)"), r.out());
        assertTrue(r.out().contains("wrote " + cache), r.out());
        try (TokenCache tc = TokenCache.open(cache)) {
            assertEquals(7, tc.size()); // 6 readable + the corrupt one, replaced by the next readable image
            assertTrue(tc.hasFlipped());
            assertEquals(tiny.config.tokenizer().schedule(), tc.schedule());
            assertEquals(64, tc.vocabSize());
        }
    }

    @Test
    void errors() throws Exception {
        Cli.run("tokenize", "--tokenizer", tiny.tokenizer.toString(), "--data", dir.resolve("nowhere").toString(),
                "--out", dir.resolve("t.bin").toString()).failsWithOneLine(1, "tokenize", "nowhere");
        Cli.run("tokenize", "--tokenizer", dir.resolve("none.safetensors").toString(), "--data", images.toString(),
                "--out", dir.resolve("t.bin").toString()).failsWithOneLine(1, "tokenize", "--tokenizer file not found");
        Cli.run("tokenize", "--tokenizer", tiny.tokenizer.toString(), "--data", images.toString())
                .failsWithOneLine(2, "tokenize", "--out");
        // A transformer is not a tokenizer.
        Cli.run("tokenize", "--tokenizer", tiny.transformer.toString(), "--data", images.toString(), "--out",
                dir.resolve("t.bin").toString()).failsWithOneLine(1, "tokenize", "holds a transformer");
        assertFalse(Files.exists(dir.resolve("t.bin")));
    }
}
