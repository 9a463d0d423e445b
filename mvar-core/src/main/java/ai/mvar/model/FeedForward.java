package ai.mvar.model;

import ai.djl.ndarray.NDArray;
import ai.mvar.nn.Functions;
import ai.mvar.nn.Linear;
import ai.mvar.nn.Params;

/** {@code fc2(gelu_tanh(fc1(x)))}. */
final class FeedForward {
    private final Linear fc1;
    private final Linear fc2;

    FeedForward(Params p, TransformerConfig c) {
        fc1 = new Linear(p.child("fc1"), c.width(), c.hiddenWidth(), true);
        fc2 = new Linear(p.child("fc2"), c.hiddenWidth(), c.width(), true);
    }

    NDArray forward(NDArray x) {
        return fc2.forward(Functions.geluTanh(fc1.forward(x)));
    }
}
