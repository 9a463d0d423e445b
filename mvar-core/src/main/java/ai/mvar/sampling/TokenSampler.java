package ai.mvar.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Scope;
import ai.mvar.nn.Tensors;
import java.util.SplittableRandom;

/**
 * Draws one token per position from logits {@code [B, n, V]}, divided by a temperature, after top-k
 * and top-p filtering, by
 * inverse-CDF sampling on the logits' device. The uniforms come from a seeded Java generator, so a
 * seed fixes the draws whatever engine or device runs the model.
 */
public final class TokenSampler {
    private final int topK;
    private final double topP;
    private final SplittableRandom random;

    public TokenSampler(int topK, double topP, long seed) {
        this.topK = topK;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    /** Positions filtered and drawn at once: bounds the sort and cumulative-sum copies of V-wide rows. */
    static final int CHUNK = 64;

    /** Token indices {@code [B, n]} int64, drawn from {@code softmax(logits / temperature)} as filtered. */
    public NDArray sample(NDArray logits, double temperature) {
        Shape s = logits.getShape();
        long n = s.get(1);
        // All of a step's uniforms in one host-to-device copy (on a GPU each copy waits for the work
        // queued before it), drawn chunk by chunk, so a seed gives the draws it always gave.
        NDArray u = Tensors.of(logits.getManager(), uniforms((int) s.get(0), (int) n), new Shape(s.get(0), n, 1));
        if (n <= CHUNK) {
            return sampleChunk(logits, temperature, u);
        }
        NDList parts = new NDList();
        for (long start = 0; start < n; start += CHUNK) {
            NDIndex range = new NDIndex(":, {}:{}", start, Math.min(n, start + CHUNK));
            try (NDArray chunk = logits.get(range); NDArray uChunk = u.get(range)) {
                parts.add(Scope.layer(chunk, c -> sampleChunk(c, temperature, uChunk))); // frees each chunk's copies
            }
        }
        u.close();
        NDArray out = NDArrays.concat(parts, 1);
        parts.close();
        return out;
    }

    /** @param u the chunk's uniforms {@code [B, n, 1]} in (0, 1] */
    private NDArray sampleChunk(NDArray logits, double temperature, NDArray u) {
        NDArray fp32 = logits.toType(DataType.FLOAT32, false);
        NDArray filtered = topP(topK(temperature == 1.0 ? fp32 : fp32.div((float) temperature)));
        long v = filtered.getShape().get(2);
        NDArray cdf = filtered.softmax(-1).cumSum(-1);
        // Normalise so the last entry is exactly 1; then u in (0, 1] always lands on a token of
        // non-zero probability, and top-k = 1 is exactly greedy.
        cdf = cdf.div(cdf.get(new NDIndex("..., -1:")));
        return cdf.lt(u).sum(new int[] {-1}).minimum(v - 1).toType(DataType.INT64, false);
    }

    private NDArray topK(NDArray logits) {
        long v = logits.getShape().get(2);
        if (topK <= 0 || topK >= v) {
            return logits;
        }
        NDArray kth = logits.topK(topK, -1, true, false).get(0).min(new int[] {-1}, true);
        return mask(logits, logits.lt(kth));
    }

    /** Drops the tokens whose cumulative probability, ascending, stays within 1 - p (never the most likely). */
    private NDArray topP(NDArray logits) {
        if (topP <= 0) {
            return logits;
        }
        long v = logits.getShape().get(2);
        NDArray sorted = logits.sort(-1);
        NDArray removable = sorted.softmax(-1).cumSum(-1).lte((float) (1 - topP));
        // The removed tokens are a prefix of the ascending order; the first kept one is the threshold.
        NDArray removed = removable.toType(DataType.INT64, false).sum(new int[] {-1}, true).minimum(v - 1);
        NDArray threshold = sorted.gather(removed, -1);
        return mask(logits, logits.lt(threshold));
    }

    private static NDArray mask(NDArray logits, NDArray drop) {
        return NDArrays.where(drop, logits.getManager().full(logits.getShape(), Float.NEGATIVE_INFINITY), logits);
    }

    /** {@code [b, n]} row-major uniforms in (0, 1], drawn chunk by chunk of {@link #CHUNK} positions, each row-major. */
    private float[] uniforms(int b, int n) {
        float[] u = new float[b * n];
        for (int start = 0; start < n; start += CHUNK) {
            int end = Math.min(n, start + CHUNK);
            for (int row = 0; row < b; row++) {
                for (int p = start; p < end; p++) {
                    u[row * n + p] = (float) (1.0 - random.nextDouble());
                }
            }
        }
        return u;
    }
}
