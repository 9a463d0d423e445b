package ai.mvar.train.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.mvar.model.Mode;
import ai.mvar.nn.ProcessMemory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingBenchmarkTest {
    @Test
    void oneTinyRoundInForkedJvms() {
        assumeTrue(ProcessMemory.available(), "peak memory needs Linux /proc");
        TrainingProbe.Task task = new TrainingProbe.Task(Mode.MVAR, 1, 32, 2, 2, 1, 2, "1,2,4", 1, 3, 16, 4);
        assertEquals(4, task.period()); // 2 x scale 0, then scales 1 and 2
        assertEquals(1, task.withMode(Mode.VAR).period());
        List<String> progress = new ArrayList<>();
        String table = TrainingBenchmark.run(task, 1, progress::add);
        assertEquals(2, progress.size(), progress.toString());
        assertTrue(progress.get(0).startsWith("round 1 VAR"), progress.toString());
        assertTrue(table.contains("| MVAR / VAR |"), table);
        assertEquals(5, table.lines().filter(l -> l.startsWith("|")).count(), table);
    }
}
