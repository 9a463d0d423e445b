package ai.mvar.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import ai.djl.nn.pooling.Pool;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.checkpoint.SafeTensorsReader;
import ai.mvar.checkpoint.SafeTensorsWriter;
import ai.mvar.checkpoint.TensorInfo;
import ai.mvar.nn.Conv2d;
import ai.mvar.nn.InitParams;
import ai.mvar.nn.Linear;
import ai.mvar.nn.ParameterSpec;
import ai.mvar.nn.Params;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.StateDictParams;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The evaluator's Fashion-MNIST classifier: two 3x3 convolutions with ReLU and 2x2 max pooling
 * (28 -> 14 -> 7), a 128-wide hidden layer whose activations are the features of the Fréchet
 * distance, and a 10-way output. Input: {@code [B, 3, 28, 28]} in [-1, 1], reduced to grey.
 */
public final class FashionClassifier implements AutoCloseable {
    public static final int SIDE = 28;
    public static final int FEATURES = 128;
    public static final int CLASSES = 10;
    /** The {@code mvar.kind} of a classifier file. */
    public static final String KIND = "fashion-mnist-classifier";

    private final StateDict weights;
    private final Conv2d conv1;
    private final Conv2d conv2;
    private final Linear hidden;
    private final Linear out;

    private FashionClassifier(StateDict weights, Params p) {
        this.weights = weights;
        conv1 = Conv2d.same(p.child("conv1"), 1, 32, 3);
        conv2 = Conv2d.same(p.child("conv2"), 32, 64, 3);
        hidden = new Linear(p.child("hidden"), 64 * 7 * 7, FEATURES, true);
        out = new Linear(p.child("out"), FEATURES, CLASSES, true);
    }

    /** Freshly initialised (seeded). */
    public static FashionClassifier random(NDManager manager, long seed) {
        StateDict weights = new StateDict(manager.newSubManager(), "classifier init (seed " + seed + ")");
        return new FashionClassifier(weights, new InitParams(weights, seed, 0.05f).root());
    }

    /** Over saved weights, which it takes ownership of; every key and shape is checked. */
    public static FashionClassifier load(StateDict weights) {
        StateDictParams params = new StateDictParams(weights, DataType.FLOAT32);
        FashionClassifier c = new FashionClassifier(weights, params.root());
        params.verify();
        return c;
    }

    /**
     * Reads a file written by {@link #save}; its kind, when recorded, and every key and shape are
     * checked before any weight is read.
     */
    public static FashionClassifier read(Path file, NDManager manager) throws IOException {
        try (SafeTensorsReader header = SafeTensorsReader.open(file)) {
            String kind = header.metadata().get(ModelFile.KIND_KEY);
            if (kind != null && !kind.equals(KIND)) {
                throw new IllegalArgumentException(file + ": holds a " + kind + " ('" + ModelFile.KIND_KEY
                        + "'), not a Fashion-MNIST classifier");
            }
            spec().verify(file.toString(), header.tensors(), TensorInfo::shape);
        }
        StateDict weights = SafeTensorsReader.readAll(file, manager.newSubManager());
        try {
            return load(weights);
        } catch (RuntimeException e) {
            weights.close();
            throw new IllegalArgumentException(file + " is not a Fashion-MNIST classifier: " + e.getMessage(), e);
        }
    }

    /** Writes the weights atomically as safetensors, with {@code extra} (e.g. the test accuracy) as metadata. */
    public void save(Path file, Map<String, String> extra) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(extra);
        meta.put(ModelFile.KIND_KEY, KIND);
        SafeTensorsWriter.write(file, weights, meta);
    }

    public static ParameterSpec spec() {
        return ParameterSpec.record(p -> new FashionClassifier(null, p));
    }

    public StateDict weights() {
        return weights;
    }

    /** The 128 hidden activations {@code [B, 128]}. */
    public NDArray features(NDArray images) {
        Shape s = images.getShape();
        if (s.dimension() != 4 || s.get(2) != SIDE || s.get(3) != SIDE) {
            throw new IllegalArgumentException("the classifier takes [B, C, 28, 28] images, got " + s);
        }
        NDArray grey = images.mean(new int[] {1}, true);
        NDArray x = pool(Activation.relu(conv1.forward(grey)));
        x = pool(Activation.relu(conv2.forward(x)));
        return Activation.relu(hidden.forward(x.reshape(s.get(0), -1)));
    }

    /** Class logits {@code [B, 10]} from {@link #features}. */
    public NDArray logits(NDArray features) {
        return out.forward(features);
    }

    private static NDArray pool(NDArray x) {
        return Pool.maxPool2d(x, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
    }

    @Override
    public void close() {
        weights.close();
    }
}
