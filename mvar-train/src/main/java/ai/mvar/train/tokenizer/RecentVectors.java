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

    /** A random pooled vector. */
    float[] sample(TrainingRandom random) {
        return pool[random.nextInt(filled)];
    }
}
