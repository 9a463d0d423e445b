package ai.mvar.model;

import ai.djl.ndarray.NDArray;
import ai.mvar.nn.Functions;
import ai.mvar.nn.Linear;
import ai.mvar.nn.Params;

/** {@code AdaLNBeforeHead} then the vocabulary projection: tokens to logits {@code [B, N, V]}. */
final class AdaLnHead {
    private final TransformerConfig config;
    private final Linear adaLin;
    private final Linear head;

    AdaLnHead(Params p, TransformerConfig c) {
        config = c;
        adaLin = new Linear(p.child("head_nm.ada_lin.1"), c.width(), 2 * c.width(), true);
        head = new Linear(p.child("head"), c.width(), c.vocabSize(), true);
    }

    NDArray forward(NDArray x, NDArray cond) {
        NDArray ada = adaLin.forward(Functions.silu(cond)).reshape(-1, 1, 2, config.width());
        NDArray h = AdaLnBlock.modulate(x, ada.get(":, :, 0"), ada.get(":, :, 1"));
        NDArray logits = head.forward(h);
        h.close();
        return logits;
    }
}
