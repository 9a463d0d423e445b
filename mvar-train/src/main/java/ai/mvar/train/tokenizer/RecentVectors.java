package ai.mvar.train.tokenizer;

import ai.mvar.train.TrainingRandom;

/**
 * A fixed-size pool of recent encoder vectors (the vectors the quantizer had to match), refreshed
 * with a random subset of each batch: the material dead codes are re-seeded from, so a revived code
 * starts where the encoder actually puts its outputs.
 */
final class RecentVectors {
    private final float[][] pool;
    private final int channels;
    private int filled;
    private int next;

    RecentVectors(int capacity, int channels) {
        this.pool = new float[capacity][];
        this.channels = channels;
    }

    /** Adds up to {@code perBatch} random rows of {@code rows} (row-major {@code [n, C]}). */
    void add(float[] rows, int perBatch, TrainingRandom random) {
        int n = rows.length / channels;
        for (int i = 0; i < Math.min(perBatch, n); i++) {
            int r = random.nextInt(n);
            float[] v = new float[channels];
            System.arraycopy(rows, r * channels, v, 0, channels);
            pool[next] = v;
            next = (next + 1) % pool.length;
            filled = Math.min(filled + 1, pool.length);
        }
    }

    int size() {
        return filled;
    }

    int capacity() {
        return pool.length;
    }

    /** Where the next vector goes (the oldest is overwritten once the pool is full). */
    int next() {
        return next;
    }

    /** The pool, {@code [capacity, C]} row-major, rows not yet filled zero: to save with a checkpoint. */
    float[] rows() {
        float[] out = new float[pool.length * channels];
        for (int i = 0; i < filled; i++) {
            System.arraycopy(pool[i], 0, out, i * channels, channels);
        }
        return out;
    }

    /** Continues from saved {@link #rows()}, {@link #size()} and {@link #next()}. */
    void restore(float[] rows, int size, int nextRow) {
        if (rows.length != pool.length * channels || size < 0 || size > pool.length || nextRow < 0 || nextRow >= pool.length) {
            throw new IllegalArgumentException("saved pool of " + rows.length + " values, " + size + " filled, next "
                    + nextRow + " does not fit a pool of " + pool.length + " x " + channels);
        }
        java.util.Arrays.fill(pool, null);
        for (int i = 0; i < size; i++) {
            pool[i] = java.util.Arrays.copyOfRange(rows, i * channels, (i + 1) * channels);
        }
        filled = size;
        next = nextRow;
    }

    /** A random pooled vector. */
    float[] sample(TrainingRandom random) {
        return pool[random.nextInt(filled)];
    }
}
