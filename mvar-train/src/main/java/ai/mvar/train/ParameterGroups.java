package ai.mvar.train;

import ai.djl.ndarray.NDArray;
import java.util.Set;

/**
 * Which parameters get weight decay, as VAR's {@code filter_params} decides: none for 1-D tensors
 * (norm scales, biases of any rank, gains), for names ending in {@code bias}, and for names that
 * contain a "no weight decay" key (positional and level embeddings, start token, attention scale).
 * Note that the class embedding and the word embedding are matrices named otherwise, so the
 * reference decays them; so does this filter.
 */
public final class ParameterGroups {
    /** The keys VAR's {@code train.py} passes to {@code filter_params}. */
    public static final Set<String> VAR_NO_DECAY_KEYS = Set.of(
            "cls_token", "start_token", "task_token", "cfg_uncond",
            "pos_embed", "pos_1LC", "pos_start", "start_pos", "lvl_embed",
            "gamma", "beta", "ada_gss", "moe_bias", "scale_mul");

    private final Set<String> noDecayKeys;

    public ParameterGroups(Set<String> noDecayKeys) {
        this.noDecayKeys = Set.copyOf(noDecayKeys);
    }

    public static ParameterGroups reference() {
        return new ParameterGroups(VAR_NO_DECAY_KEYS);
    }

    /** Whether {@code name} (of the given array) is weight-decayed. */
    public boolean decays(String name, NDArray parameter) {
        if (parameter.getShape().dimension() <= 1 || name.endsWith("bias")) {
            return false;
        }
        for (String key : noDecayKeys) {
            if (name.contains(key)) {
                return false;
            }
        }
        return true;
    }
}
