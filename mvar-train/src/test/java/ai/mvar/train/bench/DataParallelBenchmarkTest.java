package ai.mvar.train.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.mvar.model.Mode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One tiny round of the data-parallel benchmark: three setups in fresh JVMs (two ranks under mpirun), one table. */
class DataParallelBenchmarkTest {
    @Test
    void oneTinyRoundOfEachSetup() throws Exception {
        TrainingProbe.Task task = new TrainingProbe.Task(Mode.VAR, 1, 32, 2, 2, 1, 1, "1,2,4", 1, 3, 16, 4);
        List<String> progress = new ArrayList<>();
        String table = DataParallelBenchmark.run(task, 1, progress::add);
        assertEquals(3, progress.size(), progress.toString());
        assertTrue(table.contains("| 2 ranks (MPI) | 4 |"), table);
        assertTrue(table.contains("| 1 process | 2 |"), table);
        assertTrue(table.contains("| 2 independent processes | 2 |"), table);
        assertTrue(table.contains("2 ranks reach "), table);
    }
}
