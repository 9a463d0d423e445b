package ai.mvar.train;

/**
 * A seeded generator whose whole state is one {@code long} (SplitMix64), so it can be saved in a
 * checkpoint and restored exactly; {@code java.util.SplittableRandom} cannot export its state.
 */
public final class TrainingRandom {
    private static final long GAMMA = 0x9E3779B97F4A7C15L;
    private long state;

    public TrainingRandom(long state) {
        this.state = state;
    }

    /** The state to save; {@code new TrainingRandom(state())} continues identically. */
    public long state() {
        return state;
    }

    /** Continues from a saved {@link #state()}. */
    public void restore(long saved) {
        this.state = saved;
    }

    public long nextLong() {
        long z = (state += GAMMA);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1). */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        return (int) Math.floorMod(nextLong(), (long) bound);
    }

    /** Standard normal (Box-Muller). */
    public double nextGaussian() {
        double u1 = nextDouble();
        double u2 = nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
