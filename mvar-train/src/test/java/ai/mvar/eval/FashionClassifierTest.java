package ai.mvar.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.mvar.nn.Torch;
import ai.mvar.testing.TestData;
import ai.mvar.train.data.FashionMnist;
import ai.mvar.train.data.ImageDataset;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class FashionClassifierTest {
    @Test
    void learnsFashionMnistFromAFewThousandImages() throws IOException {
        TestData.assume(FashionMnist.installed(), FashionMnist.DESCRIPTION);
        ImageDataset train = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TRAIN, 28, FashionMnist.Fit.PAD).first(2048);
        ImageDataset test = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST, 28, FashionMnist.Fit.PAD).first(512);
        try (NDManager m = Torch.newManager(); FashionClassifier c = ClassifierTraining.train(train, 2, 64, 2e-3, 1, m)) {
            double accuracy = ClassifierTraining.accuracy(c, test, 128, m);
            assertTrue(accuracy > 0.7, "test accuracy after 2 epochs on 2048 images: " + accuracy);
            assertEquals(c.weights().size(), FashionClassifier.spec().shapes().size());
        }
    }

}
