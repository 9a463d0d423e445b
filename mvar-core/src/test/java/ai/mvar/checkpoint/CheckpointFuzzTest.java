package ai.mvar.checkpoint;

import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.testing.ReferenceFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates real checkpoints where their structure lives: the pickle, the zip directory, legacy
 * storage records, the safetensors header, or a truncation point. Every outcome must be a
 * successful load or a {@link CheckpointFormatException}; anything else (another exception, a
 * crash, running out of memory) is a bug. A fixed number of mutations from a fixed seed per format,
 * so every run, however loaded the machine, tries the same files.
 */
class CheckpointFuzzTest {
    private static final long SEED = 20240611L;
    private static final int ITERATIONS_PER_FORMAT = 150;

    @TempDir
    Path dir;

    /** A byte range worth mutating. */
    private record Region(int from, int to) {}

    @Test
    void mutatedCheckpointsFailCleanly() throws IOException {
        Path fixtures = ReferenceFixtures.directory();
        byte[] trainer = Files.readAllBytes(fixtures.resolve("tiny-mvar-trainer.pth"));
        byte[] legacy = Files.readAllBytes(fixtures.resolve("tiny-mvar-legacy.pth"));
        byte[] safetensors = smallSafetensors();
        Map<String, Object[]> formats = new LinkedHashMap<>();
        // data.pkl sits at the start of the zip, the central directory at its end.
        formats.put("zip", new Object[] {trainer, new Region[] {new Region(0, 4100), new Region(trainer.length - 8000, trainer.length)}});
        // The legacy pickles fill the first ~4.5 KB, then the first storage records follow.
        formats.put("legacy", new Object[] {legacy, new Region[] {new Region(0, 4600)}});
        formats.put("safetensors", new Object[] {safetensors, new Region[] {new Region(0, Math.min(safetensors.length, 400))}});
        Path file = dir.resolve("fuzzed");
        for (Map.Entry<String, Object[]> format : formats.entrySet()) {
            byte[] original = (byte[]) format.getValue()[0];
            Region[] regions = (Region[]) format.getValue()[1];
            Random random = new Random(SEED ^ format.getKey().hashCode());
            int rejected = 0;
            for (int i = 0; i < ITERATIONS_PER_FORMAT; i++) {
                byte[] mutated = mutate(original, regions, random);
                Files.write(file, mutated);
                try {
                    load(file, format.getKey());
                } catch (CheckpointFormatException expected) {
                    rejected++;
                } catch (Throwable t) {
                    fail(format.getKey() + " mutation " + i + " (seed " + SEED + ") ended in " + t, t);
                }
            }
            // The mutations must reach the parsers, not just flip tensor values.
            org.junit.jupiter.api.Assertions.assertTrue(rejected > 0, format.getKey() + ": no mutation was rejected");
        }
    }

    private static byte[] mutate(byte[] original, Region[] regions, Random random) {
        if (random.nextInt(8) == 0) {
            return java.util.Arrays.copyOf(original, random.nextInt(original.length));
        }
        byte[] out = original.clone();
        int edits = 1 + random.nextInt(6);
        for (int e = 0; e < edits; e++) {
            Region r = regions[random.nextInt(regions.length)];
            int at = r.from() + random.nextInt(r.to() - r.from());
            switch (random.nextInt(4)) {
                case 0 -> out[at] = (byte) random.nextInt(256);
                case 1 -> out[at] ^= (byte) (1 << random.nextInt(8));
                case 2 -> out[at] = (byte) (random.nextBoolean() ? 0xff : 0x7f);
                default -> out[at] = (byte) (out[at] + 1);
            }
        }
        return out;
    }

    private static void load(Path file, String format) throws IOException {
        try (NDManager m = Torch.newManager()) {
            if (format.equals("safetensors")) {
                try (StateDict sd = SafeTensorsReader.readAll(file, m.newSubManager())) {
                    sd.size();
                }
                return;
            }
            try (TorchCheckpointReader reader = TorchCheckpointReader.open(file);
                    StateDict sd = reader.read(reader.stateDict(null), m.newSubManager())) {
                sd.size();
            }
        }
    }

    private byte[] smallSafetensors() throws IOException {
        Path file = dir.resolve("small.safetensors");
        try (NDManager m = Torch.newManager()) {
            Map<String, ai.djl.ndarray.NDArray> tensors = new LinkedHashMap<>();
            tensors.put("a", m.ones(new Shape(3, 4)));
            tensors.put("b", m.arange(0, 6, 1, ai.djl.ndarray.types.DataType.INT64));
            tensors.put("c", m.zeros(new Shape(2), ai.djl.ndarray.types.DataType.FLOAT16));
            SafeTensorsWriter.write(file, tensors, Map.of("meta", "{}"));
        }
        return Files.readAllBytes(file);
    }
}
