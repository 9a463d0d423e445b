package ai.mvar.train.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST from its IDX files ({@code train-images-idx3-ubyte.gz} and friends, as the Debian
 * package {@code dataset-fashion-mnist} installs them). The 28x28 grey images become 3-channel
 * {@code S x S} images in [-1, 1], either padded with the black background or resized with
 * Lanczos.
 */
public final class FashionMnist implements ImageDataset {
    /** Where the Debian package puts the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** The Debian package that installs the files into {@link #DEFAULT_DIR}. */
    public static final String DEBIAN_PACKAGE = "dataset-fashion-mnist";
    /** What the tests need and where it comes from, for their messages. */
    public static final String DESCRIPTION = "Fashion-MNIST (" + DEFAULT_DIR + ", Debian package " + DEBIAN_PACKAGE + ")";
    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    static final int SIDE = 28;

    /** Which half of the data set. */
    public enum Split {
        TRAIN("train"),
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    /** How 28x28 becomes S x S. */
    public enum Fit {
        /** Centre on a black canvas (S >= 28); the pixels are unchanged. */
        PAD,
        /** Lanczos resize to S. */
        RESIZE
    }

    private final byte[] pixels;
    private final byte[] labels;
    private final int count;
    private final int size;
    private final Fit fit;

    private FashionMnist(byte[] pixels, byte[] labels, int count, int size, Fit fit) {
        this.pixels = pixels;
        this.labels = labels;
        this.count = count;
        this.size = size;
        this.fit = fit;
    }

    /** Whether {@code dir} holds the four IDX files of both splits. */
    public static boolean installed(Path dir) {
        for (Split split : Split.values()) {
            if (!Files.isRegularFile(imageFile(dir, split)) || !Files.isRegularFile(labelFile(dir, split))) {
                return false;
            }
        }
        return true;
    }

    /** Whether the Debian package's files are in {@link #DEFAULT_DIR}. */
    public static boolean installed() {
        return installed(DEFAULT_DIR);
    }

    private static Path imageFile(Path dir, Split split) {
        return dir.resolve(split.prefix + "-images-idx3-ubyte.gz");
    }

    private static Path labelFile(Path dir, Split split) {
        return dir.resolve(split.prefix + "-labels-idx1-ubyte.gz");
    }

    /** Loads {@code split} from {@code dir}, producing {@code size x size} images. */
    public static FashionMnist load(Path dir, Split split, int size, Fit fit) throws IOException {
        if (fit == Fit.PAD && size < SIDE) {
            throw new IllegalArgumentException("cannot pad 28x28 images to " + size + "; use Fit.RESIZE");
        }
        if (size <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + size);
        }
        Path imageFile = imageFile(dir, split);
        Path labelFile = labelFile(dir, split);
        for (Path file : List.of(imageFile, labelFile)) {
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException(file.toString(), null, "Fashion-MNIST file not found (the Debian package "
                        + DEBIAN_PACKAGE + " installs it in " + DEFAULT_DIR + ")");
            }
        }
        IdxFile images = IdxFile.read(imageFile, IdxFile.IMAGES_MAGIC);
        IdxFile labels = IdxFile.read(labelFile, IdxFile.LABELS_MAGIC);
        int[] d = images.dims();
        if (d[1] != SIDE || d[2] != SIDE) {
            throw new IOException(imageFile + ": images are " + d[1] + "x" + d[2] + ", expected 28x28");
        }
        if (labels.dims()[0] != d[0]) {
            throw new IOException(labelFile + ": " + labels.dims()[0] + " labels for the " + d[0] + " images of "
                    + imageFile);
        }
        for (int i = 0; i < d[0]; i++) {
            int label = labels.data()[i];
            if (label < 0 || label >= CLASS_NAMES.size()) {
                throw new IOException(labelFile + ": label " + label + " of image " + i + " is not a class index 0..9");
            }
        }
        return new FashionMnist(images.data(), labels.data(), d[0], size, fit);
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public int imageSize() {
        return size;
    }

    @Override
    public List<String> classNames() {
        return CLASS_NAMES;
    }

    public int label(int index) {
        return labels[index];
    }

    /** Fashion-MNIST images fill the frame, so only {@link Augment#flip()} applies. */
    @Override
    public Sample sample(int index, Augment augment) {
        int[] plane = new int[SIDE * SIDE];
        for (int i = 0; i < plane.length; i++) {
            plane[i] = pixels[index * plane.length + i] & 0xff;
        }
        int[] fitted;
        int offset;
        if (fit == Fit.RESIZE) {
            fitted = LanczosResampler.resize(plane, SIDE, SIDE, size, size);
            offset = 0;
        } else {
            fitted = plane;
            offset = (size - SIDE) / 2;
        }
        int side = fit == Fit.RESIZE ? size : SIDE;
        float[] out = new float[3 * size * size];
        java.util.Arrays.fill(out, -1f); // the black background
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                int sx = augment.flip() ? side - 1 - x : x;
                float v = fitted[y * side + sx] * (2f / 255f) - 1f;
                int o = (y + offset) * size + x + offset;
                out[o] = v;
                out[size * size + o] = v;
                out[2 * size * size + o] = v;
            }
        }
        return new Sample(out, labels[index]);
    }
}
