package ai.mvar.train.data;

import java.util.SplittableRandom;

/**
 * An endless sequence of index batches over {@code n} samples: each epoch is a fresh permutation
 * seeded by {@code (seed, epoch)}, cut into full batches (a last partial batch is dropped, as the
 * reference's training loader does). {@link #position()} before a call to {@link #next()} says
 * exactly which batch comes next, and a {@code ShuffledBatches} built from that position continues
 * identically.
 */
public final class ShuffledBatches {
    private final int n;
    private final int batchSize;
    private final long seed;
    private int epoch;
    private int index;
    private int[] permutation;

    public ShuffledBatches(int n, int batchSize, DataPosition from) {
        if (batchSize <= 0 || batchSize > n) {
            throw new IllegalArgumentException("batch size " + batchSize + " does not fit a data set of " + n);
        }
        if (from.index() > n) {
            throw new IllegalArgumentException("position " + from + " lies past a data set of " + n);
        }
        this.n = n;
        this.batchSize = batchSize;
        this.seed = from.seed();
        this.epoch = from.epoch();
        this.index = from.index();
        this.permutation = permutation(seed, epoch, n);
    }

    /** Batches per epoch. */
    public int batchesPerEpoch() {
        return n / batchSize;
    }

    /** The position of the next batch. */
    public DataPosition position() {
        return new DataPosition(seed, epoch, index);
    }

    /** The next batch: sample indices and the position each was drawn at (for augmentation seeds). */
    public IndexBatch next() {
        if (index + batchSize > n) {
            epoch++;
            index = 0;
            permutation = permutation(seed, epoch, n);
        }
        int[] out = new int[batchSize];
        System.arraycopy(permutation, index, out, 0, batchSize);
        IndexBatch batch = new IndexBatch(new DataPosition(seed, epoch, index), out);
        index += batchSize;
        return batch;
    }

    /** A generator for augmenting the sample at {@code position + offset}: the same on every run. */
    public static SplittableRandom augmentRandom(DataPosition position, int offset) {
        long key = mix(mix(position.seed() ^ 0x5DEECE66DL) + position.epoch()) + position.index() + offset;
        return new SplittableRandom(mix(key));
    }

    /** Fisher-Yates over {@code 0..n-1} from a generator seeded by (seed, epoch). */
    static int[] permutation(long seed, int epoch, int n) {
        SplittableRandom r = new SplittableRandom(mix(seed) + epoch);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** SplitMix64's finaliser: spreads nearby seeds far apart. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Sample indices of one batch and the position of its first sample. */
    public record IndexBatch(DataPosition position, int[] indices) {}
}
