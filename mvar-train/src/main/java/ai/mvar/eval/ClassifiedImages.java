package ai.mvar.eval;

import ai.djl.ndarray.NDArray;
import ai.mvar.nn.Scope;
import java.util.Arrays;

/**
 * Labelled images as the {@link FashionClassifier} sees them, gathered batch by batch: their 128
 * features (for the Fréchet distance and precision/recall) and, per class, how many it assigns to
 * their label (class consistency). Real images and samples go through the same code.
 */
public final class ClassifiedImages {
    private final FashionClassifier classifier;
    private final int[] right = new int[FashionClassifier.CLASSES];
    private final int[] count = new int[FashionClassifier.CLASSES];
    private float[] features = new float[0];
    private int size;

    public ClassifiedImages(FashionClassifier classifier) {
        this.classifier = classifier;
    }

    /** Classifies {@code images} ({@code [B, C, 28, 28]} in [-1, 1]) of classes {@code labels}. */
    public void add(NDArray images, long[] labels) {
        long b = images.getShape().get(0);
        if (b != labels.length) {
            throw new IllegalArgumentException(b + " images but " + labels.length + " labels");
        }
        Scope.run(() -> {
            NDArray f = classifier.features(images);
            long[] predicted = classifier.logits(f).argMax(-1).toLongArray();
            int d = FashionClassifier.FEATURES;
            if ((size + labels.length) * d > features.length) {
                features = Arrays.copyOf(features, Math.max(2 * features.length, (size + labels.length) * d));
            }
            System.arraycopy(f.toFloatArray(), 0, features, size * d, labels.length * d);
            for (int i = 0; i < labels.length; i++) {
                int label = Math.toIntExact(labels[i]);
                if (label < 0 || label >= FashionClassifier.CLASSES) {
                    throw new IllegalArgumentException("label " + label + " is not a Fashion-MNIST class");
                }
                count[label]++;
                if (predicted[i] == label) {
                    right[label]++;
                }
            }
            size += labels.length;
        });
    }

    public int size() {
        return size;
    }

    /** Feature rows, {@code size() x 128}. */
    public float[] features() {
        return Arrays.copyOf(features, size * FashionClassifier.FEATURES);
    }

    /** The share classified as their label. */
    public double consistency() {
        return (double) Arrays.stream(right).sum() / size;
    }

    /** The share classified as their label, per class (NaN for a class with no images). */
    public double[] perClass() {
        double[] out = new double[right.length];
        for (int k = 0; k < out.length; k++) {
            out[k] = count[k] == 0 ? Double.NaN : (double) right[k] / count[k];
        }
        return out;
    }
}
