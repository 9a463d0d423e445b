package ai.mvar.train.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.model.Mode;
import ai.mvar.testing.Tolerance;
import ai.mvar.train.MetricsLog;
import ai.mvar.train.StepMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Two ranks under mpirun, each computing half of every batch of 9 (shards of 4 and 5, flips and
 * class dropout of the whole batch), make the updates one process makes on the whole batch: after
 * 10 steps (three MVAR cycles and a block pass) in fp32, every loss and every weight and optimizer
 * moment agree to 1e-5.
 */
class DataParallelTrainingTest {
    private static final int STEPS = 10;
    private static final int BATCH = 9;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Mode.class)
    void twoRanksMakeTheUpdatesOfOneProcessOnTheWholeBatch(Mode mode) throws Exception {
        Path cache = ChildRun.tokenCache(dir);
        Path one = dir.resolve("one");
        Path two = dir.resolve("two");
        ChildRun single = ChildRun.start(one, cache, 1, STEPS, 5, 0, mode.name(), BATCH);
        assertEquals(0, single.await(Duration.ofMinutes(5)).exitCode(), single::output);
        ChildRun pair = ChildRun.start(two, cache, 2, STEPS, 5, 0, mode.name(), BATCH);
        assertEquals(0, pair.await(Duration.ofMinutes(5)).exitCode(), pair::output);

        assertSameTraining(one, two, STEPS, 1e-5);
    }

    /**
     * Runs {@code one} and {@code two} logged the same losses (training and held-out, the ranks
     * sharing the held-out images) and hold the same checkpoint at {@code steps} (weights and
     * optimizer moments), to {@code tolerance} relative.
     */
    static void assertSameTraining(Path one, Path two, int steps, double tolerance) throws Exception {
        List<StepMetrics> a = MetricsLog.read(one.resolve("metrics.jsonl"));
        List<StepMetrics> b = MetricsLog.read(two.resolve("metrics.jsonl"));
        assertEquals(steps, b.size());
        List<StepMetrics> heldA = MetricsLog.read(one.resolve("held_out.jsonl"));
        List<StepMetrics> heldB = MetricsLog.read(two.resolve("held_out.jsonl"));
        assertEquals(heldA.stream().map(StepMetrics::step).toList(), heldB.stream().map(StepMetrics::step).toList());
        assertFalse(heldA.isEmpty(), "held-out scores at the checkpoints");
        for (int i = 0; i < heldA.size(); i++) {
            assertArrayEquals(heldA.get(i).scaleLoss(), heldB.get(i).scaleLoss(), tolerance * heldA.get(i).loss(),
                    "held-out loss at step " + heldA.get(i).step());
            assertArrayEquals(heldA.get(i).scaleAccuracy(), heldB.get(i).scaleAccuracy(), tolerance,
                    "held-out accuracy at step " + heldA.get(i).step());
        }
        for (int i = 0; i < steps; i++) {
            assertEquals(a.get(i).loss(), b.get(i).loss(), tolerance * Math.abs(a.get(i).loss()), "loss of step " + (i + 1));
            for (int s = 0; s < a.get(i).scaleLoss().length; s++) {
                double expected = a.get(i).scaleLoss()[s]; // NaN for a scale the step did not train
                assertEquals(expected, b.get(i).scaleLoss()[s], Double.isNaN(expected) ? 0 : tolerance * expected,
                        "scale " + s + " loss of step " + (i + 1));
            }
        }
        Map<String, float[]> wa = ChildRun.tensors(ChildRun.checkpoint(one, steps));
        Map<String, float[]> wb = ChildRun.tensors(ChildRun.checkpoint(two, steps));
        assertEquals(wa.keySet(), wb.keySet());
        double worst = 0;
        String where = "";
        for (String k : wa.keySet()) {
            double d = Tolerance.relativeError(wb.get(k), wa.get(k));
            if (d > worst) {
                worst = d;
                where = k;
            }
        }
        assertTrue(worst <= tolerance, "2 ranks differ from 1 process by " + worst + " in " + where);
        assertEquals(ChildRun.metadata(ChildRun.checkpoint(one, steps)).get("data_position"),
                ChildRun.metadata(ChildRun.checkpoint(two, steps)).get("data_position"));
    }
}
