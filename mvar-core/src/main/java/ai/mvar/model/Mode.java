package ai.mvar.model;

/** The two ways the same weights are used. */
public enum Mode {
    /** Next-scale prediction conditioned on every coarser scale: block-causal attention and a KV cache. */
    VAR,
    /**
     * Markovian VAR: each scale conditioned only on the one before it (block-diagonal attention, no
     * KV cache) and, from refine_step on, only on a k x k spatial neighbourhood.
     */
    MVAR
}
