package ai.mvar.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.checkpoint.SafeTensorsReader;
import ai.mvar.config.Preset;
import ai.mvar.config.PresetJson;
import ai.mvar.model.Mode;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.MetricsLog;
import ai.mvar.train.data.Datasets;
import ai.mvar.train.data.TokenCacheWriter;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training pipeline on the command line with the tiny preset: {@code train-tokenizer} on a
 * folder of PNGs, {@code tokenize}, {@code train} in both modes (VAR as two ranks under mpirun),
 * {@code sample} with the result, a second {@code train} that finds the run finished, a job whose
 * rank 1 is killed, and the errors.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrainCommandsTest {
    private static final String[] LOOP = {"--batch", "4", "--warmup", "1", "--checkpoint-every", "2"};

    @TempDir
    static Path dir;

    static Path preset;
    static Path images;
    static Path tokenizer;
    static Path tokens;

    @BeforeAll
    static void setUp() throws Exception {
        preset = dir.resolve("tiny.json");
        Files.writeString(preset, TinyModel.JSON);
        images = dir.resolve("images");
        SplittableRandom r = new SplittableRandom(3);
        for (String c : new String[] {"cat", "dog", "dolphin"}) {
            Files.createDirectories(images.resolve("train").resolve(c));
            for (int i = 0; i < 3; i++) {
                BufferedImage img = new BufferedImage(18, 16, BufferedImage.TYPE_INT_RGB);
                int base = r.nextInt(1 << 24);
                for (int y = 0; y < img.getHeight(); y++) {
                    for (int x = 0; x < img.getWidth(); x++) {
                        img.setRGB(x, y, x < 9 ? base : r.nextInt(1 << 24));
                    }
                }
                ImageIO.write(img, "png", images.resolve("train").resolve(c).resolve(i + ".png").toFile());
            }
        }
    }

    private static String[] args(String[] head, String... more) {
        return Stream.of(head, LOOP, more).flatMap(Stream::of).toArray(String[]::new);
    }

    @Test
    @Order(1)
    void trainTokenizerWritesTheRunFolderAndTheModel() throws Exception {
        Path run = dir.resolve("tok-run");
        Cli.Result r = Cli.run(args(new String[] {"train-tokenizer", "--preset", preset.toString(), "--data",
                images.toString(), "--steps", "4", "--gan-weight", "0.8", "--gan-start", "2", "--gan-width", "8", "--ema",
                "0.9", "-o", run.toString()})).ok();
        tokenizer = run.resolve("tokenizer.safetensors");
        assertTrue(r.out().contains(tokenizer.toString()), r.out());
        assertRunFolder(run, 4);
        assertEquals(ModelFile.Kind.TOKENIZER, ModelFile.info(tokenizer).kind());
        assertEquals(ModelFile.Kind.TOKENIZER, ModelFile.info(run.resolve("tokenizer-no-ema.safetensors")).kind(),
                "with --ema the live weights are kept beside the average");

        tokens = dir.resolve("tokens.bin");
        Cli.run("tokenize", "--tokenizer", tokenizer.toString(), "--data", images.toString(), "--flip", "--out",
                tokens.toString()).ok();
        assertTrue(Files.size(tokens) > 0);

        Path decoderRun = dir.resolve("decoder-run");
        Cli.run(args(new String[] {"train-tokenizer", "--init", tokenizer.toString(), "--decoder-only", "--data",
                images.toString(), "--steps", "3", "--ema", "0.9", "-o", decoderRun.toString()})).ok();
        Path fineTuned = decoderRun.resolve("tokenizer.safetensors");
        assertEquals("true", ModelFile.info(fineTuned).extra().get("decoder_only"));
        Path retokenized = dir.resolve("tokens-fine-tuned.bin");
        Cli.run("tokenize", "--tokenizer", fineTuned.toString(), "--data", images.toString(), "--flip", "--out",
                retokenized.toString()).ok();
        assertArrayEquals(Files.readAllBytes(tokens), Files.readAllBytes(retokenized),
                "a fine-tuned decoder leaves every token, and so the token cache, as it was");
    }

    @Test
    @Order(2)
    void trainBothModesThenSampleAndResume() throws Exception {
        for (Mode mode : Mode.values()) {
            String name = mode.name().toLowerCase(java.util.Locale.ROOT);
            Path run = dir.resolve(name + "-run");
            String[] train = args(new String[] {"train", "--tokenizer", tokenizer.toString(), "--tokens",
                    tokens.toString(), "--mode", name, "--steps", "6", "--ratio-k", "1", "-o", run.toString()},
                    mode == Mode.VAR ? new String[] {"--devices", "cpu,cpu", "--held-out", tokens.toString()}
                            : new String[] {"--precision", "fp16"});
            Cli.Result r = Cli.run(train).ok();
            Path model = run.resolve(name + ".safetensors");
            assertTrue(r.out().contains(model + " (6 steps)"), r.out());
            assertRunFolder(run, 6);
            assertEquals(mode, ModelFile.info(model).mode());
            assertEquals(mode == Mode.MVAR, checkpointHolds(run, 6, "optim.grad_scaler.scale"), "MVAR ran in fp16");
            Path heldOut = run.resolve("held_out.jsonl");
            if (mode == Mode.VAR) {
                List<String> lines = Files.readAllLines(heldOut);
                List<String> steps = lines.stream().map(l -> l.substring(0, l.indexOf(',') + 1)).toList();
                assertEquals(List.of("{\"step\":2,", "{\"step\":4,", "{\"step\":6,"), steps,
                        "a held-out line per checkpoint: " + lines);
            } else {
                assertFalse(Files.exists(heldOut), "no held-out file without --held-out");
            }

            Path samples = dir.resolve(name + "-samples");
            Cli.run("sample", "--tokenizer", tokenizer.toString(), "--model", model.toString(), "--per-class", "1",
                    "--out", samples.toString()).ok();
            assertNotNull(ImageIO.read(samples.resolve("2-dolphin-seed0.png").toFile()));

            // The same command again: the newest checkpoint is the last step, nothing is trained.
            byte[] metrics = Files.readAllBytes(run.resolve("metrics.jsonl"));
            List<Path> checkpoints = list(run.resolve("checkpoints"));
            Cli.Result again = Cli.run(train).ok();
            assertTrue(again.out().contains("(6 steps, already done: nothing trained)"), again.out());
            assertEquals(1, again.out().lines().count(), again.out());
            assertEquals(-1, java.util.Arrays.mismatch(metrics, Files.readAllBytes(run.resolve("metrics.jsonl"))));
            assertEquals(checkpoints, list(run.resolve("checkpoints")));
        }
    }

    @Test
    @Order(3)
    void aKilledRankStopsTheJobWithAnErrorNamingItAndWhereToResume() throws Exception {
        Path run = dir.resolve("killed-run");
        String[] train = args(new String[] {"train", "--tokenizer", tokenizer.toString(), "--tokens", tokens.toString(),
                "--mode", "var", "--steps", "2000", "-o", run.toString()}, "--devices", "cpu,cpu");
        CompletableFuture<Cli.Result> job = CompletableFuture.supplyAsync(() -> Cli.run(train));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!job.isDone() && System.nanoTime() < deadline && !Files.isRegularFile(run.resolve("checkpoints")
                .resolve(String.format("step-%012d.safetensors", 4)))) {
            Thread.sleep(50);
        }
        ProcessHandle rankOne = ProcessHandle.current().descendants().filter(p -> environment(p).contains("OMPI_COMM_WORLD_RANK=1"))
                .findFirst().orElseThrow(() -> new AssertionError("no rank 1 running"));
        long killed = System.nanoTime();
        new ProcessBuilder("kill", "-9", Long.toString(rankOne.pid())).start().waitFor();
        Cli.Result r = job.get(60, TimeUnit.SECONDS);
        assertTrue((System.nanoTime() - killed) / 1e9 < 60);
        assertEquals(1, r.exit(), r::err);
        List<String> lines = r.errLines();
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("mvar train: error: rank 1 of 2 (pid " + rankOne.pid()), last);
        assertTrue(last.contains("without finishing: it was killed") && last.contains("the job was stopped. Run the"
                + " same command to resume from " + run.resolve("checkpoints")), last);
    }

    /** A process's environment (Linux), empty when it cannot be read. */
    private static String environment(ProcessHandle p) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ")),
                    java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    @Order(4)
    void trainingErrors() throws Exception {
        // A token cache of another pyramid (patch_nums 1,2,3,8): one line naming the file.
        Preset other = PresetJson.parse(TinyModel.JSON.replace("[1, 2, 4, 8]", "[1, 2, 3, 8]"), "other");
        Path otherTokens = dir.resolve("other-pyramid.tokens");
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(other.tokenizer(), m, 1)) {
            TokenCacheWriter.write(otherTokens, Datasets.open(images.toString(), Datasets.Split.TRAIN, 16), vae, m, 4,
                    false, n -> {});
        }
        Path run = dir.resolve("bad-run");
        Cli.run(args(new String[] {"train", "--tokenizer", tokenizer.toString(), "--tokens", otherTokens.toString(),
                "--steps", "2", "-o", run.toString()})).failsWithOneLine(1, "train", otherTokens + " holds patch_nums");
        Cli.run(args(new String[] {"train", "--tokenizer", tokenizer.toString(), "--tokens", tokens.toString(),
                "--held-out", otherTokens.toString(), "--steps", "2", "-o", run.toString()}))
                .failsWithOneLine(1, "train", otherTokens + " holds patch_nums");
        Cli.run(args(new String[] {"train", "--tokenizer", tokenizer.toString(), "--tokens", tokens.toString(),
                "--held-out", dir.resolve("none.tokens").toString(), "--steps", "2", "-o", run.toString()}))
                .failsWithOneLine(1, "train", "none.tokens: --held-out file not found");
        Cli.run(args(new String[] {"train", "--tokenizer", tokenizer.toString(), "--tokens", tokens.toString(),
                "--devices", "cpu,tpu", "--steps", "2", "-o", run.toString()}))
                .failsWithOneLine(2, "train", "unknown device 'tpu'");
        Cli.run(args(new String[] {"train", "--tokenizer", tokenizer.toString(), "--tokens", tokens.toString(),
                "--devices", "cpu,cpu", "--bucket-mb", "0", "--steps", "2", "-o", run.toString()}))
                .failsWithOneLine(2, "train", "--bucket-mb must lie in 1..1024, got 0");
        Cli.run(args(new String[] {"train", "--tokenizer", tokenizer.toString(), "--tokens", tokens.toString(),
                "--precision", "bf16", "--steps", "2", "-o", run.toString()}))
                .failsWithOneLine(2, "train", "--precision bf16: bf16 is not available");
        Path missing = dir.resolve("no-tokenizer.safetensors");
        Cli.run(args(new String[] {"train", "--tokenizer", missing.toString(), "--tokens", tokens.toString(),
                "--steps", "2", "-o", run.toString()})).failsWithOneLine(1, "train", missing + ": --tokenizer file not found");
        Cli.run(args(new String[] {"train", "--tokenizer", tokenizer.toString(), "--tokens",
                dir.resolve("none.tokens").toString(), "--steps", "2", "-o", run.toString()}))
                .failsWithOneLine(1, "train", "none.tokens: --tokens file not found");
        Cli.run("train-tokenizer", "--preset", preset.toString(), "--data", images.toString(), "--ema", "1", "-o",
                run.toString()).failsWithOneLine(2, "train-tokenizer", "EMA decay must lie in [0, 1), got 1.0");
        Cli.run("train-tokenizer", "--preset", preset.toString(), "--data", images.toString(), "--gan-weight", "-1", "-o",
                run.toString()).failsWithOneLine(2, "train-tokenizer", "invalid adversarial settings");
        Cli.run("train-tokenizer", "--preset", preset.toString(), "--data", images.toString(), "--decoder-only", "-o",
                run.toString()).failsWithOneLine(2, "train-tokenizer", "--decoder-only fine-tunes a trained tokenizer: give it with --init");
        Cli.run("train-tokenizer", "--init", missing.toString(), "--data", images.toString(), "-o", run.toString())
                .failsWithOneLine(1, "train-tokenizer", missing + ": --init file not found");
        assertFalse(Files.exists(run.resolve("metrics.jsonl")));
    }

    /** Whether the checkpoint of {@code step} holds tensor {@code name}. */
    private static boolean checkpointHolds(Path run, int step, String name) throws Exception {
        try (SafeTensorsReader r = SafeTensorsReader.open(
                run.resolve("checkpoints").resolve(String.format("step-%012d.safetensors", step)))) {
            return r.tensors().containsKey(name);
        }
    }

    /** checkpoints/ with the final step, one metrics line per step, a decodable loss.png. */
    private static void assertRunFolder(Path run, int steps) throws Exception {
        assertTrue(Files.isRegularFile(run.resolve("checkpoints").resolve(String.format("step-%012d.safetensors", steps))));
        assertEquals(steps, MetricsLog.read(run.resolve("metrics.jsonl")).size());
        assertNotNull(ImageIO.read(run.resolve("loss.png").toFile()), "loss.png decodes");
    }

    private static List<Path> list(Path folder) throws Exception {
        try (Stream<Path> s = Files.list(folder)) {
            return s.sorted().toList();
        }
    }
}
