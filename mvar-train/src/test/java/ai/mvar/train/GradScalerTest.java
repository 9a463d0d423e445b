package ai.mvar.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.mvar.nn.Torch;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** torch.amp.GradScaler's update rule ({@code _amp_update_scale_}) and AmpOptimizer's cap. */
class GradScalerTest {

    @Test
    void halvesOnOverflowAndDoublesAfterGrowthIntervalGoodSteps() {
        try (NDManager m = Torch.newManager();
                GradScaler s = new GradScaler(new GradScaler.Config(1024, 2, 0.5, 3, Double.POSITIVE_INFINITY), m)) {
            assertEquals(1024, s.scale());
            s.update(false);
            s.update(false);
            assertEquals(1024, s.scale());
            assertEquals(2, s.growthTracker());
            s.update(true);
            assertEquals(512, s.scale(), "an overflow halves the scale");
            assertEquals(0, s.growthTracker(), "and restarts the count of good steps");
            s.update(false);
            s.update(false);
            s.update(false);
            assertEquals(1024, s.scale(), "three good steps in a row double it");
            assertEquals(0, s.growthTracker());
        }
    }

    @Test
    void theReferenceCapsTheScaleAfterTheStepThatUsedIt() {
        try (NDManager m = Torch.newManager();
                GradScaler s = new GradScaler(new GradScaler.Config(16384, 2, 0.5, 2, 32768), m)) {
            s.update(false);
            s.update(false);
            assertEquals(32768, s.scale());
            s.update(false);
            s.update(false);
            assertEquals(65536, s.scale(), "growth may pass the cap: the next step runs at 2^16, as in AmpOptimizer");
            s.update(false);
            assertEquals(32768, s.scale(), "then update(new_scale=32768.)");
            assertEquals(0, s.growthTracker(), "which leaves the tracker alone");
        }
        assertEquals(new GradScaler.Config(2048, 2, 0.5, 1000, 32768), GradScaler.Config.reference());
        assertEquals(new GradScaler.Config(65536, 2, 0.5, 2000, Double.POSITIVE_INFINITY), GradScaler.Config.torch());
        assertThrows(IllegalArgumentException.class, () -> new GradScaler.Config(0, 2, 0.5, 10, 1e9));
    }

    @Test
    void stateRoundTripsAndAnFp32CheckpointStartsAfresh() {
        try (NDManager m = Torch.newManager();
                GradScaler a = new GradScaler(GradScaler.Config.reference(), m);
                GradScaler b = new GradScaler(GradScaler.Config.reference(), m)) {
            a.update(true);
            a.update(false);
            Map<String, NDArray> state = new LinkedHashMap<>(a.state());
            assertTrue(b.restore(state));
            assertEquals(1024, b.scale());
            assertEquals(1, b.growthTracker());
            assertFalse(b.restore(Map.of()));
            assertEquals(2048, b.scale());
            assertEquals(0, b.growthTracker());
        }
    }
}
