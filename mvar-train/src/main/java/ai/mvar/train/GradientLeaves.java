package ai.mvar.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.mvar.nn.Scope;
import ai.mvar.nn.StateDict;
import java.util.Map;

/**
 * The autograd leaves of one optimizer update: a fresh tensor per parameter, made from the master
 * weights when the update begins and closed when it ends, so that every update starts with no
 * gradients at all, as PyTorch's {@code zero_grad(set_to_none=True)} leaves them (the reference
 * calls it after every step).
 *
 * <p>Why fresh tensors: DJL cannot set a tensor's {@code .grad} back to undefined. Once a backward
 * pass has defined it, it stays defined and can only be zeroed, so a parameter that a later
 * backward pass does not reach would hand AdamW a zero gradient, and AdamW would move it. A fresh
 * leaf's gradient is undefined until a backward pass reaches it, and {@link #gradient(String)} asks
 * libtorch exactly that.
 *
 * <p>In fp32 on the master's device the leaves alias the master weights ({@code detach()}: the same
 * storage, no copy), so they see the optimizer's in-place updates. In another type (fp16) or on
 * another device they are copies, made per update from the current master weights.
 */
public final class GradientLeaves implements AutoCloseable {
    private final StateDict leaves;

    private GradientLeaves(StateDict leaves) {
        this.leaves = leaves;
    }

    /**
     * Leaves over {@code weights} (fp32 masters, all on one device) in type {@code type} on
     * {@code device}, each requiring a gradient.
     */
    public static GradientLeaves of(Map<String, NDArray> weights, DataType type, Device device) {
        if (weights.isEmpty()) {
            throw new IllegalArgumentException("no weights to make leaves of");
        }
        NDManager manager = weights.values().iterator().next().getManager().newSubManager(device);
        StateDict leaves = new StateDict(manager, "gradient leaves (" + type + " on " + device + ")");
        for (Map.Entry<String, NDArray> e : weights.entrySet()) {
            NDArray w = e.getValue();
            NDArray leaf = Scope.keep(manager, () -> w.getDevice().equals(device) && w.getDataType() == type
                    ? w.stopGradient()
                    : w.toDevice(device, false).toType(type, false));
            leaf.setRequiresGradient(true);
            leaves.put(e.getKey(), leaf);
        }
        return new GradientLeaves(leaves);
    }

    /** The leaves by parameter name, as a state dict to build a model over (the model must not close it). */
    public StateDict stateDict() {
        return leaves;
    }

    /**
     * The gradient accumulated in leaf {@code name} by the backward passes since this object was
     * made, or null when none of them reached it. The array belongs to the caller's scope, or to
     * this object when there is none.
     */
    public NDArray gradient(String name) {
        NDArray leaf = leaves.get(name);
        if (leaf == null) {
            throw new IllegalArgumentException("no leaf named " + name);
        }
        return gradient(leaf);
    }

    /**
     * The gradient libtorch holds for {@code leaf}, or null when it is undefined (no backward pass
     * reached the leaf). DJL's {@code getGradient()} returns zeros in that case, which hides the
     * difference PyTorch's optimizers rely on.
     */
    static NDArray gradient(NDArray leaf) {
        // JniUtils.getGradient returns null exactly when libtorch's tensor.grad() is undefined. (The
        // native call leaks one empty tensor handle, a few bytes, per query of an undefined gradient.)
        return JniUtils.getGradient((PtNDArray) leaf);
    }

    @Override
    public void close() {
        leaves.close();
    }
}
