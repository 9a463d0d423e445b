package ai.mvar.train.data;

/**
 * Where a shuffled pass over a data set stands: the shuffle seed, the epoch, and how many samples
 * of that epoch's permutation were already consumed. Everything else (the permutation, the
 * augmentations) is derived from these three numbers, so saving them is enough to resume exactly.
 */
public record DataPosition(long seed, int epoch, int index) {
    public DataPosition {
        if (epoch < 0 || index < 0) {
            throw new IllegalArgumentException("epoch and index must be >= 0, got " + epoch + ", " + index);
        }
    }

    /** The start of a run with this seed. */
    public static DataPosition start(long seed) {
        return new DataPosition(seed, 0, 0);
    }

    /** {@code seed:epoch:index}, the form stored in checkpoints. */
    @Override
    public String toString() {
        return seed + ":" + epoch + ":" + index;
    }

    /** Parses {@link #toString()}. */
    public static DataPosition parse(String text) {
        String[] parts = text.split(":");
        if (parts.length != 3) {
            throw new IllegalArgumentException("data position must be seed:epoch:index, got '" + text + "'");
        }
        return new DataPosition(Long.parseLong(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2]));
    }
}
