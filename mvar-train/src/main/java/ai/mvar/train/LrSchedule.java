package ai.mvar.train;

/**
 * VAR's learning-rate schedule ({@code utils/lr_control.py}, {@code lr_wd_annealing}): a linear
 * warm-up from {@code wp0 * peak} over {@code warmup} iterations, then an annealing phase that ends
 * at {@code wpe * peak} on the last iteration.
 *
 * <ul>
 *   <li>{@link Shape#LIN0}: flat at the peak for the first 5% of the annealing phase, then linear
 *       down (the reference recipe).
 *   <li>{@link Shape#COSINE}: half a cosine from the peak down.
 * </ul>
 *
 * @param shape the annealing phase
 * @param peak the peak learning rate (the reference uses {@code 1e-4 * batch / 256})
 * @param warmup warm-up iterations (rounded, as the reference does)
 * @param total total iterations; the last is {@code total - 1}
 * @param wp0 warm-up start as a fraction of the peak (reference default 0.005)
 * @param wpe final value as a fraction of the peak (VAR's training recipe: 0.01)
 */
public record LrSchedule(Shape shape, double peak, long warmup, long total, double wp0, double wpe) {
    /** The lin0 plateau: the fraction of the annealing phase spent at the peak. */
    static final double LIN0_PLATEAU = 0.05;

    /** The annealing phase after warm-up. */
    public enum Shape {
        LIN0,
        COSINE
    }

    public LrSchedule {
        if (peak <= 0 || warmup < 0 || total <= warmup + 1) {
            throw new IllegalArgumentException("schedule needs peak > 0 and total > warm-up + 1, got peak " + peak
                    + ", warm-up " + warmup + ", total " + total);
        }
    }

    /** The reference defaults: warm-up from 0.5% of the peak, annealing to 1% of it. */
    public static LrSchedule of(Shape shape, double peak, long warmup, long total) {
        return new LrSchedule(shape, peak, warmup, total, 0.005, 0.01);
    }

    /** The learning rate of iteration {@code it} (0-based). */
    public double lr(long it) {
        double factor;
        if (it < warmup) {
            factor = wp0 + (1 - wp0) * it / warmup;
        } else {
            double passed = (double) (it - warmup) / (total - 1 - warmup); // 0 .. 1
            double rest = 1 - passed;
            factor = switch (shape) {
                case COSINE -> wpe + (1 - wpe) * (0.5 + 0.5 * Math.cos(Math.PI * passed));
                case LIN0 -> passed < LIN0_PLATEAU ? 1 : wpe + (1 - wpe) * rest / (1 - LIN0_PLATEAU);
            };
        }
        return factor * peak;
    }
}
