package ai.mvar.checkpoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the model's state dict inside an unpickled checkpoint. Plain weight files (VAR's {@code
 * var_d16.pth}, the VQ-VAE) are a state dict at the top level; MVAR's trainer checkpoints keep it
 * under {@code mvar_wo_ddp}, next to optimizer state and pickled arguments; VAR's trainer under
 * {@code trainer.var_wo_ddp}.
 */
public final class StateDictLocator {
    /** Places searched, in order, when the caller names none; "" is the top level. */
    public static final List<String> DEFAULT_KEYS = List.of(
            "", "mvar_wo_ddp", "trainer.mvar_wo_ddp", "var_wo_ddp", "trainer.var_wo_ddp", "state_dict", "model");

    private StateDictLocator() {}

    /**
     * The state dict at {@code key} (a dotted path through nested dicts, such as {@code
     * trainer.mvar_wo_ddp}; "" for the top level), or at the first of {@link #DEFAULT_KEYS} that
     * holds one when {@code key} is null.
     *
     * @throws CheckpointFormatException naming the keys that do exist when nothing is found
     */
    public static Map<String, TorchTensor> find(Object root, String key, Path source) {
        if (key != null) {
            Object value = resolve(root, key);
            if (value == null) {
                throw new CheckpointFormatException(source, "no entry '" + key + "'; top-level keys: " + keysOf(root));
            }
            Map<String, TorchTensor> sd = asStateDict(value);
            if (sd == null) {
                throw new CheckpointFormatException(source, "'" + key + "' is a " + PyValues.typeName(value)
                        + ", not a dict of tensors");
            }
            return sd;
        }
        for (String candidate : DEFAULT_KEYS) {
            Map<String, TorchTensor> sd = asStateDict(resolve(root, candidate));
            if (sd != null) {
                return sd;
            }
        }
        throw new CheckpointFormatException(source, "no state dict at the top level or under " + DEFAULT_KEYS.subList(1,
                DEFAULT_KEYS.size()) + "; name its key (top-level keys: " + keysOf(root) + ")");
    }

    /** Follows a dotted path; a segment may itself contain dots, so the longest existing key wins. */
    private static Object resolve(Object node, String path) {
        if (path.isEmpty()) {
            return node;
        }
        if (!(node instanceof Map<?, ?> map)) {
            return null;
        }
        if (map.containsKey(path)) {
            return map.get(path);
        }
        for (int dot = path.lastIndexOf('.'); dot > 0; dot = path.lastIndexOf('.', dot - 1)) {
            Object child = map.get(path.substring(0, dot));
            if (child != null) {
                Object found = resolve(child, path.substring(dot + 1));
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    /** A non-empty dict whose keys are strings and whose values are all tensors, else null. */
    private static Map<String, TorchTensor> asStateDict(Object value) {
        if (!(value instanceof Map<?, ?> map) || map.isEmpty()) {
            return null;
        }
        Map<String, TorchTensor> sd = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String k) || !(e.getValue() instanceof TorchTensor t)) {
                return null;
            }
            sd.put(k, t);
        }
        return sd;
    }

    private static String keysOf(Object root) {
        if (!(root instanceof Map<?, ?> map)) {
            return "none, the checkpoint is a " + PyValues.typeName(root);
        }
        List<String> keys = new ArrayList<>();
        for (Object k : map.keySet()) {
            keys.add(k instanceof String s ? s : PyValues.typeName(k));
            if (keys.size() == 20) {
                keys.add("...");
                break;
            }
        }
        return keys.toString();
    }
}
