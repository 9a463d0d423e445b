package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Named tensors in PyTorch state-dict order, all owned by one {@link NDManager}; closing the
 * state dict frees them.
 */
public final class StateDict implements AutoCloseable {
    private final NDManager manager;
    private final Map<String, NDArray> tensors = new LinkedHashMap<>();
    private final String source;

    /**
     * @param manager owns every tensor put into this state dict
     * @param source where the tensors come from, used in error messages (a file name)
     */
    public StateDict(NDManager manager, String source) {
        this.manager = manager;
        this.source = source;
    }

    public NDManager manager() {
        return manager;
    }

    public String source() {
        return source;
    }

    /** Adds a tensor, moving it into this state dict's manager. */
    public void put(String key, NDArray tensor) {
        tensor.attach(manager);
        NDArray previous = tensors.put(key, tensor);
        if (previous != null && previous != tensor) {
            previous.close();
        }
    }

    public NDArray get(String key) {
        return tensors.get(key);
    }

    public boolean contains(String key) {
        return tensors.containsKey(key);
    }

    public Set<String> keys() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    public Map<String, NDArray> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public int size() {
        return tensors.size();
    }

    /**
     * Moves every tensor whose key starts with {@code prefix + "."} into a new state dict with the
     * prefix removed (for files that hold several models, such as {@code vae.*} and {@code mvar.*}).
     */
    public StateDict extract(String prefix, NDManager target) {
        String p = prefix.isEmpty() ? "" : prefix + ".";
        StateDict out = new StateDict(target, source + (prefix.isEmpty() ? "" : " [" + prefix + "]"));
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            if (e.getKey().startsWith(p)) {
                out.put(e.getKey().substring(p.length()), e.getValue());
            }
        }
        tensors.keySet().removeIf(k -> k.startsWith(p));
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
