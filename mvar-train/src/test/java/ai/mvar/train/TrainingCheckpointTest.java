package ai.mvar.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.checkpoint.SafeTensorsReader;
import ai.mvar.nn.Torch;
import ai.mvar.train.data.DataPosition;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingCheckpointTest {

    private static TrainingState state(NDManager m, long step, float value) {
        return new TrainingState(step,
                Map.of("w", m.full(new Shape(2, 3), value), "b", m.full(new Shape(3), -value)),
                Map.of("exp_avg.w", m.full(new Shape(2, 3), value / 10)),
                step / 2, new DataPosition(9, 1, (int) step), Map.of("dropout", 1234567890123L + step),
                Map.of("model", "tiny"));
    }

    @Test
    void savesEverythingAndResumesTheNewestKeepingTheLastK(@TempDir Path dir) throws IOException {
        TrainingCheckpoint ckpt = new TrainingCheckpoint(dir.resolve("run"), 2);
        try (NDManager m = Torch.newManager()) {
            for (long step = 10; step <= 40; step += 10) {
                ckpt.save(state(m, step, step));
            }
            assertEquals(List.of("step-000000000040.safetensors", "step-000000000030.safetensors"),
                    ckpt.checkpoints().stream().map(p -> p.getFileName().toString()).toList());
            try (Stream<Path> s = Files.list(ckpt.dir())) {
                assertEquals(2, s.count(), "no temporary files are left");
            }
            try (SafeTensorsReader r = SafeTensorsReader.open(ckpt.checkpoints().get(0))) {
                assertEquals(Map.of("format", "mvar-training-checkpoint", "version", "1", "step", "40",
                        "optimizer_steps", "20", "data_position", "9:1:40", "random.dropout", "1234567890163",
                        "extra.model", "tiny"), r.metadata());
            }
            TrainingState back = ckpt.resume(m).orElseThrow();
            assertEquals(40, back.step());
            assertEquals(20, back.optimizerSteps());
            assertEquals(new DataPosition(9, 1, 40), back.data());
            assertEquals(1234567890163L, back.random().get("dropout"));
            assertEquals("tiny", back.extra().get("model"));
            assertArrayEquals(new float[] {-40, -40, -40}, back.weights().get("b").toFloatArray());
            assertArrayEquals(new float[] {4, 4, 4, 4, 4, 4}, back.optimizer().get("exp_avg.w").toFloatArray());

            Map<String, NDArray> live = Map.of("w", m.zeros(new Shape(2, 3)), "b", m.zeros(new Shape(3)));
            back.restoreWeights(live);
            assertArrayEquals(new float[] {40, 40, 40, 40, 40, 40}, live.get("w").toFloatArray());
            assertThrows(IllegalArgumentException.class, () -> back.restoreWeights(Map.of("w", m.zeros(new Shape(2, 3)))));
        }
    }

    @Test
    void aDamagedNewestCheckpointFallsBackToTheOneBefore(@TempDir Path dir) throws IOException {
        TrainingCheckpoint ckpt = new TrainingCheckpoint(dir, 3);
        try (NDManager m = Torch.newManager()) {
            ckpt.save(state(m, 1, 1));
            Path newest = ckpt.save(state(m, 2, 2));
            try (FileChannel ch = FileChannel.open(newest, StandardOpenOption.WRITE)) {
                ch.truncate(ch.size() - 4);
            }
            assertEquals(1, ckpt.resume(m).orElseThrow().step());
        }
    }

    @Test
    void anEmptyFolderHasNothingToResume(@TempDir Path dir) throws IOException {
        try (NDManager m = Torch.newManager()) {
            assertTrue(new TrainingCheckpoint(dir.resolve("none"), 1).resume(m).isEmpty());
        }
    }

    @Test
    void generatorStateRoundTrips() {
        TrainingRandom a = new TrainingRandom(5);
        a.nextDouble();
        TrainingRandom b = new TrainingRandom(a.state());
        for (int i = 0; i < 5; i++) {
            assertEquals(a.nextLong(), b.nextLong());
        }
        for (int i = 0; i < 1000; i++) {
            int v = a.nextInt(7);
            assertTrue(v >= 0 && v < 7);
        }
    }
}
