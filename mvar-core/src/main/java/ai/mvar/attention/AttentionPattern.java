package ai.mvar.attention;

/** Who may attend to whom inside a window of scales. */
public enum AttentionPattern {
    /** VAR: a token of scale s sees every token of scales up to s (with a KV cache at inference). */
    BLOCK_CAUSAL,
    /** MVAR scale-Markov: a token sees only the tokens of its own scale. */
    BLOCK_DIAGONAL,
    /** MVAR spatial-Markov: a token sees the k x k neighbourhood of its own scale's map. */
    NEIGHBOURHOOD
}
