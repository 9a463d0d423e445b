package ai.mvar.train.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.mvar.model.Mode;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.MetricsLog;
import ai.mvar.train.StepMetrics;
import ai.mvar.train.TinyModels;
import ai.mvar.train.data.TokenCacheWriter;
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
        Path cache = dir.resolve("tokens.bin");
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5)) {
            TokenCacheWriter.write(cache, TinyModels.randomImages(24, 16, 3), vae, m, 8, true, n -> {});
        }
        Path one = dir.resolve("one");
        Path two = dir.resolve("two");
        ChildRun single = ChildRun.start(one, cache, 1, STEPS, 5, 0, mode.name(), BATCH);
        assertEquals(0, single.await(Duration.ofMinutes(5)).exitCode(), single::output);
        ChildRun pair = ChildRun.start(two, cache, 2, STEPS, 5, 0, mode.name(), BATCH);
        assertEquals(0, pair.await(Duration.ofMinutes(5)).exitCode(), pair::output);

        List<StepMetrics> a = MetricsLog.read(one.resolve("metrics.jsonl"));
        List<StepMetrics> b = MetricsLog.read(two.resolve("metrics.jsonl"));
        assertEquals(STEPS, b.size());
        for (int i = 0; i < STEPS; i++) {
            assertEquals(a.get(i).loss(), b.get(i).loss(), 1e-5 * Math.abs(a.get(i).loss()), "loss of step " + (i + 1));
            for (int s = 0; s < a.get(i).scaleLoss().length; s++) {
                double expected = a.get(i).scaleLoss()[s]; // NaN for a scale the step did not train
                assertEquals(expected, b.get(i).scaleLoss()[s], Double.isNaN(expected) ? 0 : 1e-5 * expected,
                        "scale " + s + " loss of step " + (i + 1));
            }
        }
        Map<String, float[]> wa = ChildRun.tensors(ChildRun.checkpoint(one, STEPS));
        Map<String, float[]> wb = ChildRun.tensors(ChildRun.checkpoint(two, STEPS));
        assertEquals(wa.keySet(), wb.keySet());
        double worst = 0;
        String where = "";
        for (String k : wa.keySet()) {
            double d = relative(wb.get(k), wa.get(k));
            if (d > worst) {
                worst = d;
                where = k;
            }
        }
        assertTrue(worst <= 1e-5, "2 ranks differ from 1 process by " + worst + " in " + where);
        assertEquals(ChildRun.metadata(ChildRun.checkpoint(one, STEPS)).get("data_position"),
                ChildRun.metadata(ChildRun.checkpoint(two, STEPS)).get("data_position"));
    }

    private static double relative(float[] a, float[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (double) (a[i] - b[i]);
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }
}
