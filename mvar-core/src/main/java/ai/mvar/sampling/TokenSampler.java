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
 * Draws one token per position from logits {@code [B, n, V]} after top-k and top-p filtering, by
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

    /** Token indices {@code [B, n]} int64. */
    public NDArray sample(NDArray logits) {
        long n = logits.getShape().get(1);
        if (n <= CHUNK) {
            return sampleChunk(logits);
        }
        NDList parts = new NDList();
        for (long start = 0; start < n; start += CHUNK) {
            try (NDArray chunk = logits.get(new NDIndex(":, {}:{}", start, Math.min(n, start + CHUNK)))) {
                parts.add(Scope.layer(chunk, this::sampleChunk)); // frees each chunk's copies
            }
        }
        NDArray out = NDArrays.concat(parts, 1);
        parts.close();
        return out;
    }

    private NDArray sampleChunk(NDArray logits) {
        NDArray filtered = topP(topK(logits.toType(DataType.FLOAT32, false)));
        Shape s = filtered.getShape();
        long v = s.get(2);
        NDArray cdf = filtered.softmax(-1).cumSum(-1);
        // Normalise so the last entry is exactly 1; then u in (0, 1] always lands on a token of
        // non-zero probability, and top-k = 1 is exactly greedy.
        cdf = cdf.div(cdf.get(new NDIndex("..., -1:")));
        NDArray u = Tensors.of(filtered.getManager(), uniforms((int) (s.get(0) * s.get(1))), new Shape(s.get(0), s.get(1), 1));
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

    private float[] uniforms(int n) {
        float[] u = new float[n];
        for (int i = 0; i < n; i++) {
            u[i] = (float) (1.0 - random.nextDouble()); // (0, 1]
        }
        return u;
    }
}
