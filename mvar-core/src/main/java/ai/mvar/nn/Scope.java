package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Runs a computation so that every intermediate array it creates is freed when it returns, and
 * only its results survive, attached to the caller's manager. Public entry points that compute
 * (encode a batch, sample a scale, one training step) run in a scope, which keeps native memory
 * flat over any number of calls.
 */
public final class Scope {
    private Scope() {}

    /** The single result of {@code f}, attached to {@code target}. */
    public static NDArray keep(NDManager target, Supplier<NDArray> f) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray out = f.get();
            NDScope.unregister(out);
            out.attach(target);
            return out;
        }
    }

    /** All results of {@code f}, attached to {@code target}. */
    public static List<NDArray> keepAll(NDManager target, Supplier<List<NDArray>> f) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            List<NDArray> out = f.get();
            for (NDArray a : out) {
                NDScope.unregister(a);
                a.attach(target);
            }
            return out;
        }
    }

    /** Runs {@code f} for its side effects; every array it creates is freed. */
    public static void run(Runnable f) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            f.run();
        }
    }

    /**
     * Applies one layer. Outside training its intermediates are freed as soon as it returns, so an
     * inference pass holds one layer's temporaries at a time (as PyTorch's reference counting
     * does) instead of every layer's; while gradients are recorded the graph must keep them. The
     * output belongs to the enclosing scope.
     */
    public static NDArray layer(NDArray x, UnaryOperator<NDArray> f) {
        if (JniUtils.isGradMode()) {
            return f.apply(x);
        }
        NDArray out;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            out = f.apply(x);
            NDScope.unregister(out);
        }
        NDScope.register(out); // the enclosing scope frees it
        return out;
    }

    /** The results of {@code f} as an {@link NDList} attached to {@code target}. */
    public static NDList keepList(NDManager target, Supplier<NDList> f) {
        return new NDList(keepAll(target, () -> f.get()));
    }
}
