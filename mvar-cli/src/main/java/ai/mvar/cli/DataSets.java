package ai.mvar.cli;

import ai.mvar.train.data.FashionMnist;
import ai.mvar.train.data.ImageDataset;
import ai.mvar.train.data.ImageFolderDataset;
import java.io.IOException;
import java.nio.file.Path;

/** Training data by name: {@code fashion-mnist} or an ImageNet-layout folder. */
final class DataSets {
    private DataSets() {}

    static ImageDataset open(String spec, FashionMnist.Split split, int imageSize) throws IOException {
        if (spec.equals("fashion-mnist")) {
            FashionMnist.Fit fit = imageSize >= 28 ? FashionMnist.Fit.PAD : FashionMnist.Fit.RESIZE;
            return FashionMnist.load(FashionMnist.DEFAULT_DIR, split, imageSize, fit);
        }
        return ImageFolderDataset.scan(Path.of(spec), imageSize);
    }
}
