package ai.mvar.model;

import ai.djl.ndarray.NDArray;

/**
 * VAR's key/value cache: every block keeps the keys and values of all scales sampled so far, so a
 * new scale attends to the whole coarser pyramid. MVAR needs none.
 */
public final class KvCache {
    private final NDArray[] keys;
    private final NDArray[] values;

    public KvCache(int depth) {
        keys = new NDArray[depth];
        values = new NDArray[depth];
    }

    /** Appends this step's keys and values of block {@code block}; returns everything cached. */
    NDArray[] append(int block, NDArray k, NDArray v) {
        keys[block] = keys[block] == null ? k : keys[block].concat(k, 2);
        values[block] = values[block] == null ? v : values[block].concat(v, 2);
        return new NDArray[] {keys[block], values[block]};
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

    /** Every cached array, so a caller can keep them across scopes. */
    NDArray[] arrays(int block) {
        return new NDArray[] {keys[block], values[block]};
    }
}
