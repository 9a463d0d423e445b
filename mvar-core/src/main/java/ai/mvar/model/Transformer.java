package ai.mvar.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.mvar.attention.AttentionPattern;
import ai.mvar.attention.BlockCausalMask;
import ai.mvar.attention.BlockDiagonalMask;
import ai.mvar.attention.NeighbourhoodAttention;
import ai.mvar.nn.Functions;
import ai.mvar.nn.InitParams;
import ai.mvar.nn.Linear;
import ai.mvar.nn.ParameterSpec;
import ai.mvar.nn.Params;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Scope;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.StateDictParams;
import ai.mvar.tokenizer.ScaleSchedule;
import java.util.ArrayList;
import java.util.List;

/**
 * The class-conditional next-scale transformer shared by VAR and MVAR: class, level and position
 * embeddings, AdaLN blocks and an AdaLN head. The {@link Mode} decides only who attends to whom.
 * Parameter names are the reference's state-dict keys.
 *
 * <p>Weights and matrix products are in the model's {@link Precision}; the class embedding, the
 * residual stream between blocks and the logits are fp32 whatever it is, as in the reference run
 * under autocast (fp32 weights, fp16 products).
 */
public final class Transformer implements AutoCloseable {
    private final TransformerConfig config;
    private final StateDict weights;
    private final Linear wordEmbed;
    private final NDArray classEmb;
    private final NDArray posStart;
    private final NDArray pos1LC;
    private final NDArray lvlEmbed;
    private final List<AdaLnBlock> blocks = new ArrayList<>();
    private final AdaLnHead head;
    private final Precision precision;

    private Transformer(TransformerConfig c, StateDict weights, Params p, Precision precision) {
        this.config = c;
        this.weights = weights;
        this.precision = precision;
        ScaleSchedule s = c.schedule();
        int w = c.width();
        int first = s.tokens(0);
        wordEmbed = new Linear(p.child("word_embed"), c.latentChannels(), w, true);
        classEmb = p.get("class_emb.weight", Params.Init.NORMAL, c.classes() + 1L, w);
        posStart = p.get("pos_start", Params.Init.NORMAL, 1, first, w);
        pos1LC = p.get("pos_1LC", Params.Init.NORMAL, 1, s.length(), w);
        lvlEmbed = p.get("lvl_embed.weight", Params.Init.NORMAL, s.scales(), w);
        for (int i = 0; i < c.depth(); i++) {
            blocks.add(new AdaLnBlock(p.child("blocks." + i), c));
        }
        head = new AdaLnHead(p, c);
        // Derived from the schedule and recomputed, never loaded.
        p.buffer("lvl_1L", 1, s.length());
        p.buffer("attn_bias_for_masking", 1, 1, s.length(), s.length());
    }

    /**
     * A transformer over the given weights, which it takes ownership of; floating-point weights
     * are converted once to the precision's type.
     */
    public static Transformer load(TransformerConfig config, StateDict weights, Precision precision) {
        StateDictParams params = new StateDictParams(weights, precision.requireSupported().dataType());
        Transformer t = new Transformer(config, weights, params.root(), precision);
        params.verify();
        return t;
    }

    /** fp32 weights. */
    public static Transformer load(TransformerConfig config, StateDict weights) {
        return load(config, weights, Precision.FP32);
    }

    /** Freshly initialised fp32 weights (seeded), for training from scratch and benchmarks. */
    public static Transformer random(TransformerConfig config, NDManager manager, long seed) {
        StateDict weights = new StateDict(manager.newSubManager(), "random init (seed " + seed + ")");
        return initialise(config, new InitParams(weights, seed), Precision.FP32);
    }

    /** Fresh weights from {@code init}, created in the precision's type into its state dict, which the model owns. */
    public static Transformer initialise(TransformerConfig config, InitParams init, Precision precision) {
        InitParams typed = init.inType(precision.requireSupported().dataType());
        return new Transformer(config, typed.target(), typed.root(), precision);
    }

    /** Names and shapes of every parameter and buffer, computed without allocating any. */
    public static ParameterSpec spec(TransformerConfig config) {
        return ParameterSpec.record(p -> new Transformer(config, null, p, Precision.FP32));
    }

    public TransformerConfig config() {
        return config;
    }

    public StateDict weights() {
        return weights;
    }

    /** The precision of the weights and matrix products; norms, softmax and logits are fp32 always. */
    public Precision precision() {
        return precision;
    }

    /**
     * Teacher-forced logits {@code [B, tokens of scales [from, to), V]}, scoped.
     *
     * @param labels class indices {@code [B]} ({@code classes} is "no class")
     * @param teacherInput the tokenizer's teacher-forcing input {@code [B, L - p_0^2, Cvae]}
     * @param from first scale; VAR needs 0
     * @param to one past the last scale
     */
    public NDArray logits(NDArray labels, NDArray teacherInput, int from, int to, Mode mode) {
        return Scope.keep(labels.getManager(), () -> logitsUnscoped(labels, teacherInput, from, to, mode));
    }

    /** {@link #logits} without a scope, for training steps that keep the graph for the backward pass. */
    public NDArray logitsUnscoped(NDArray labels, NDArray teacherInput, int from, int to, Mode mode) {
        AttentionPattern pattern = teacherForcedPattern(from, to, mode);
        ScaleSchedule s = config.schedule();
        NDArray cond = classEmbedding(labels);
        NDArray x;
        int first = s.tokens(0);
        if (from == 0) {
            x = startTokens(cond);
            if (to > 1) {
                NDArray rest = teacherInput.get(new NDIndex(":, 0:{}", s.begin(to) - first));
                x = x.concat(embedTokens(rest, 1, to), 1);
            }
        } else {
            NDArray part = teacherInput.get(new NDIndex(":, {}:{}", s.begin(from) - first, s.begin(to) - first));
            x = embedTokens(part, from, to);
        }
        return run(x, cond, pattern, null);
    }

    /** The attention pattern of a teacher-forced pass over scales {@code [from, to)}. */
    public AttentionPattern teacherForcedPattern(int from, int to, Mode mode) {
        ScaleSchedule s = config.schedule();
        if (from < 0 || to > s.scales() || from >= to) {
            throw new IllegalArgumentException("scale range [" + from + ", " + to + ") is not inside " + s);
        }
        if (mode == Mode.VAR) {
            if (from != 0) {
                throw new IllegalArgumentException("VAR attends to every coarser scale: a pass must start at scale 0, not " + from);
            }
            return new BlockCausalMask(s, to);
        }
        if (to <= config.refineStep()) {
            return new BlockDiagonalMask(s, from, to);
        }
        if (to - from == 1) {
            return new NeighbourhoodAttention(s.side(from), config.kernelSize());
        }
        throw new IllegalArgumentException("MVAR runs scales below refine_step " + config.refineStep()
                + " together and each later scale alone; [" + from + ", " + to + ") mixes them");
    }

    /** The pattern of one sampling step at {@code scale} (queries are that scale's tokens only). */
    public AttentionPattern samplingPattern(int scale, Mode mode) {
        if (mode == Mode.MVAR && scale >= config.refineStep()) {
            return new NeighbourhoodAttention(config.schedule().side(scale), config.kernelSize());
        }
        return AttentionPattern.FULL; // one scale alone (MVAR), or against the KV cache (VAR)
    }

    /** Class embeddings {@code [B, C]}, fp32. */
    public NDArray classEmbedding(NDArray labels) {
        checkLabels(labels);
        return Functions.fp32(classEmb.get(new NDIndex("{}", labels.toType(DataType.INT64, false))));
    }

    /** The first scale's tokens: class embedding + pos_start + level and position embeddings (fp32). */
    public NDArray startTokens(NDArray cond) {
        int first = config.schedule().tokens(0);
        long b = cond.getShape().get(0);
        NDArray sos = cond.reshape(b, 1, config.width()).repeat(1, first);
        return sos.add(posStart).add(levelAndPosition(0, 1));
    }

    /**
     * Embedded inputs of scales {@code [from, to)}: {@code word_embed(tokens) + lvl + pos} (fp32),
     * for code-space tokens {@code [B, n, Cvae]} of exactly those scales.
     */
    public NDArray embedTokens(NDArray tokens, int from, int to) {
        return Functions.fp32(wordEmbed.forward(tokens)).add(levelAndPosition(from, to));
    }

    /** Blocks and head: fp32 logits {@code [B, N, V]} for embedded tokens {@code [B, N, C]}. */
    public NDArray run(NDArray x, NDArray cond, AttentionPattern pattern, KvCache cache) {
        NDArray h = x;
        for (int i = 0; i < blocks.size(); i++) {
            int block = i;
            NDArray next = Scope.layer(h, in -> blocks.get(block).forward(in, cond, pattern, cache, block));
            // A block's input is dead once its output exists (autograd keeps its own reference);
            // without this every block's output would live until the caller's scope ends.
            Functions.closeIfDistinct(h, x);
            h = next;
        }
        NDArray logits = Functions.fp32(head.forward(h, cond));
        Functions.closeIfDistinct(h, x);
        return logits;
    }

    private NDArray levelAndPosition(int from, int to) {
        ScaleSchedule s = config.schedule();
        NDArray pos = pos1LC.get(new NDIndex(":, {}:{}", s.begin(from), s.begin(to)));
        List<NDArray> levels = new ArrayList<>();
        for (int scale = from; scale < to; scale++) {
            levels.add(lvlEmbed.get(scale).reshape(1, 1, config.width()).repeat(1, s.tokens(scale)));
        }
        NDArray lvl = levels.get(0);
        for (int i = 1; i < levels.size(); i++) {
            lvl = lvl.concat(levels.get(i), 1);
        }
        return pos.add(lvl);
    }

    private void checkLabels(NDArray labels) {
        if (labels.getShape().dimension() != 1) {
            throw new IllegalArgumentException("labels must be [B], got " + labels.getShape());
        }
        long[] l = labels.toType(DataType.INT64, false).toLongArray();
        for (long label : l) {
            if (label < 0 || label > config.classes()) {
                throw new IllegalArgumentException("class label " + label + " outside [0, " + config.classes()
                        + "] (" + config.classes() + " = no class)");
            }
        }
    }

    @Override
    public void close() {
        if (weights != null) {
            weights.close();
        }
    }
}
