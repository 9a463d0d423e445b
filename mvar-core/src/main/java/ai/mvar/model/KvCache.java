package ai.mvar.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.TensorMemory;

/**
 * VAR's key/value cache: every block keeps the keys and values of all scales sampled so far, so a
 * new scale attends to the whole coarser pyramid. MVAR needs none.
 *
 * <p>Each block's keys and values live in one buffer of the whole pyramid's length, allocated at
 * the first scale and filled scale by scale: attention reads a view of the filled part. The
 * reference grows its cache by concatenation instead; the result is the same, but a buffer that
 * never moves costs no copies and leaves no freed, ever smaller arrays behind in the C heap.
 */
public final class KvCache implements AutoCloseable {
    private final int tokens;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int[] filled;

    /**
     * @param depth blocks
     * @param tokens length of the whole pyramid (the most a cache holds)
     */
    public KvCache(int depth, int tokens) {
        this.tokens = tokens;
        keys = new NDArray[depth];
        values = new NDArray[depth];
        filled = new int[depth];
    }

    /**
     * Appends this step's keys and values {@code [B, H, n, D]} of block {@code block} and returns
     * views of everything cached, {@code [B, H, filled, D]}.
     */
    NDArray[] append(int block, NDArray k, NDArray v) {
        long n = k.getShape().get(2);
        if (keys[block] == null) {
            keys[block] = buffer(k);
            values[block] = buffer(v);
        }
        int from = filled[block];
        if (from + n > tokens) {
            throw new IllegalStateException("KV cache of " + tokens + " tokens cannot take " + n + " more after " + from);
        }
        NDIndex slot = new NDIndex(":, :, {}:{}", from, from + n);
        keys[block].set(slot, k);
        values[block].set(slot, v);
        filled[block] = (int) (from + n);
        NDIndex all = new NDIndex(":, :, 0:{}", filled[block]);
        return new NDArray[] {keys[block].get(all), values[block].get(all)};
    }

    /** An uninitialised {@code [B, H, tokens, D]} buffer like {@code x}, owned by the cache, not by a scope. */
    private NDArray buffer(NDArray x) {
        Shape s = x.getShape();
        NDArray b = TensorMemory.empty((PtNDManager) x.getManager(), new Shape(s.get(0), s.get(1), tokens, s.get(3)),
                x.getDataType(), x.getDevice());
        NDScope.unregister(b);
        return b;
    }

    @Override
    public void close() {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                keys[i].close();
                values[i].close();
                keys[i] = null;
                values[i] = null;
            }
            filled[i] = 0;
        }
    }
}
