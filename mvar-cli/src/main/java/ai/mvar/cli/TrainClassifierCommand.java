package ai.mvar.cli;

import ai.djl.ndarray.NDManager;
import ai.mvar.eval.ClassifierTraining;
import ai.mvar.eval.FashionClassifier;
import ai.mvar.nn.Torch;
import ai.mvar.train.data.Datasets;
import ai.mvar.train.data.ImageDataset;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train-classifier", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = "Trains the evaluator's Fashion-MNIST classifier (two convolutions, a 128-wide feature layer) on"
                + " the 60,000 training images and reports its accuracy on the 10,000 test images.",
        footerHeading = "%nExamples:%n",
        footer = {"  ./mvar train-classifier --epochs 3 -o runs/classifier.safetensors",
                "  ./mvar eval --classifier runs/classifier.safetensors   judge samples with it"})
final class TrainClassifierCommand implements Callable<Integer> {
    @Option(names = {"-o", "--out"}, required = true, paramLabel = "<file>", description = "classifier file to write")
    Path out;

    @Option(names = "--data", defaultValue = Datasets.FASHION_MNIST, paramLabel = "<source>",
            description = "'fashion-mnist' or 'fashion-mnist:<dir>' (default ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--epochs", defaultValue = "3", description = "default ${DEFAULT-VALUE}")
    int epochs;

    @Mixin
    BatchOption batch = new BatchOption(64);

    @Option(names = "--lr", defaultValue = "2e-3", description = "peak learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--seed", defaultValue = "0", description = "default ${DEFAULT-VALUE}")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        int batchSize = batch.value();
        ImageDataset train = Datasets.open(data, Datasets.Split.TRAIN, FashionClassifier.SIDE);
        ImageDataset test = Datasets.open(data, Datasets.Split.TEST, FashionClassifier.SIDE);
        try (NDManager m = Torch.newManager(); FashionClassifier c = ClassifierTraining.train(train, epochs, batchSize, lr, seed, m)) {
            double accuracy = ClassifierTraining.accuracy(c, test, 256, m);
            c.save(out, Map.of("test_accuracy", Double.toString(accuracy), "epochs", Integer.toString(epochs),
                    "seed", Long.toString(seed)));
            spec.commandLine().getOut().printf(Locale.ROOT, "test accuracy %.4f on %d images; wrote %s%n", accuracy, test.size(), out);
            spec.commandLine().getOut().flush();
        }
        return 0;
    }
}
