package ai.mvar.train.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a data set named on a command line: {@code fashion-mnist} (the IDX files in {@link
 * FashionMnist#DEFAULT_DIR}), {@code fashion-mnist:<dir>} (the IDX files in {@code dir}), or an
 * ImageNet-layout folder (its {@code train}/{@code val} subfolder when it has one for the split,
 * else the folder itself).
 */
public final class Datasets {
    public static final String FASHION_MNIST = "fashion-mnist";

    private Datasets() {}

    /** Which half of a data set. */
    public enum Split {
        TRAIN,
        TEST
    }

    /**
     * @param imageSize the side the tokenizer encodes; Fashion-MNIST's 28 px images are padded to it
     *     (or resized down when it is smaller than 28)
     */
    public static ImageDataset open(String source, Split split, int imageSize) throws IOException {
        if (source.equals(FASHION_MNIST) || source.startsWith(FASHION_MNIST + ":")) {
            Path dir = source.equals(FASHION_MNIST) ? FashionMnist.DEFAULT_DIR
                    : Path.of(source.substring(FASHION_MNIST.length() + 1));
            if (!Files.isDirectory(dir)) {
                throw new java.nio.file.NoSuchFileException(dir.toString(), null,
                        "Fashion-MNIST folder not found (install the Debian package dataset-fashion-mnist,"
                                + " or name the folder as fashion-mnist:<dir>)");
            }
            FashionMnist.Fit fit = imageSize >= FashionMnist.SIDE ? FashionMnist.Fit.PAD : FashionMnist.Fit.RESIZE;
            return FashionMnist.load(dir, split == Split.TRAIN ? FashionMnist.Split.TRAIN : FashionMnist.Split.TEST,
                    imageSize, fit);
        }
        Path root = Path.of(source);
        if (!Files.isDirectory(root)) {
            throw new java.nio.file.NoSuchFileException(source, null,
                    "data set is neither 'fashion-mnist' nor an existing image folder");
        }
        for (String sub : split == Split.TRAIN ? new String[] {"train"} : new String[] {"val", "test"}) {
            if (Files.isDirectory(root.resolve(sub))) {
                return ImageFolderDataset.scan(root.resolve(sub), imageSize);
            }
        }
        return ImageFolderDataset.scan(root, imageSize);
    }
}
