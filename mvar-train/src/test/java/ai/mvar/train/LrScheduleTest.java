package ai.mvar.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
    // Values worked out by hand from VAR's lr_wd_annealing with peak 1, wp0 0.005, wpe 0.01,
    // wp_it 10, max_it 111 (so the annealing phase spans iterations 10..110, 100 steps).
    private final LrSchedule lin0 = LrSchedule.of(LrSchedule.Shape.LIN0, 1.0, 10, 111);
    private final LrSchedule cos = LrSchedule.of(LrSchedule.Shape.COSINE, 1.0, 10, 111);

    @Test
    void warmsUpLinearlyFromHalfAPercent() {
        assertEquals(0.005, lin0.lr(0), 1e-12);
        assertEquals(0.005 + 0.995 * 5 / 10, lin0.lr(5), 1e-12);
        assertEquals(cos.lr(7), lin0.lr(7), 1e-12);
    }

    @Test
    void lin0StaysFlatForFivePercentThenFallsLinearlyToOnePercent() {
        assertEquals(1.0, lin0.lr(10), 1e-12);
        assertEquals(1.0, lin0.lr(14), 1e-12); // passed 0.04 < 0.05
        // passed 0.05: rest 0.95 / 0.95 = 1 exactly at the knee
        assertEquals(1.0, lin0.lr(15), 1e-12);
        // passed 0.5: 0.01 + 0.99 * 0.5 / 0.95
        assertEquals(0.01 + 0.99 * 0.5 / 0.95, lin0.lr(60), 1e-12);
        assertEquals(0.01, lin0.lr(110), 1e-12);
    }

    @Test
    void cosineFallsHalfACosineToOnePercent() {
        assertEquals(1.0, cos.lr(10), 1e-12);
        assertEquals(0.01 + 0.99 * 0.5, cos.lr(60), 1e-12);
        assertEquals(0.01 + 0.99 * (0.5 + 0.5 * Math.cos(Math.PI * 0.25)), cos.lr(35), 1e-12);
        assertEquals(0.01, cos.lr(110), 1e-12);
    }

    @Test
    void scalesWithThePeakAndWorksWithoutWarmUp() {
        LrSchedule s = LrSchedule.of(LrSchedule.Shape.LIN0, 1e-4 * 448 / 256, 0, 101);
        assertEquals(1.75e-4, s.lr(0), 1e-15);
        assertEquals(1.75e-6, s.lr(100), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.of(LrSchedule.Shape.LIN0, 1, 10, 11));
    }
}
