package ai.mvar.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

/**
 * VAR's key/value cache: every block keeps the keys and values of all scales sampled so far, so a
 * new scale attends to the whole coarser pyramid. MVAR needs none.
 */
public final class KvCache implements AutoCloseable {
    private final NDArray[] keys;
    private final NDArray[] values;

    public KvCache(int depth) {
        keys = new NDArray[depth];
        values = new NDArray[depth];
    }

    /**
     * Appends this step's keys and values of block {@code block} and returns everything cached.
     * The previous, shorter arrays are freed: the cache is an inference structure, no graph needs
     * them. The cached arrays leave the caller's scope (the cache frees them itself), so call this
     * in the scope that created {@code k} and {@code v}.
     */
    NDArray[] append(int block, NDArray k, NDArray v) {
        keys[block] = grow(keys[block], k);
        values[block] = grow(values[block], v);
        NDScope.unregister(keys[block], values[block]);
        return new NDArray[] {keys[block], values[block]};
    }

    private static NDArray grow(NDArray cached, NDArray next) {
        if (cached == null) {
            return next;
        }
        NDArray grown = cached.concat(next, 2);
        cached.close();
        return grown;
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
        }
    }

    /** Bytes held by the cache. */
    public long bytes() {
        long total = 0;
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                total += keys[i].size() * keys[i].getDataType().getNumOfBytes() * 2;
            }
        }
        return total;
    }
}
