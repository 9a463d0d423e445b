package ai.mvar.cli;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.ProgressBar;
import ai.mvar.train.data.Datasets;
import ai.mvar.train.data.ImageDataset;
import ai.mvar.train.data.ImageFolderDataset;
import ai.mvar.train.data.TokenCacheWriter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code mvar tokenize}: a data set encoded once into a token cache for transformer training. */
@Command(name = "tokenize",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        header = "Encode a data set once into a token cache for training.",
        description = {
            "Encodes every image of a data set with the tokenizer and writes the token pyramids and labels to a token cache file, which transformer training reads instead of the images. The file appears only when complete. Images are centre-cropped (ImageNet layout) or padded (Fashion-MNIST) to the preset's size; files that cannot be decoded are skipped, counted and reported."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  ./mvar tokenize --data fashion-mnist --flip --out tokens/fm-train.bin",
            "  ./mvar tokenize --data fashion-mnist --split test --out tokens/fm-test.bin",
            "  ./mvar tokenize --preset d16 --tokenizer vae_ch160v4096z32.safetensors \\",
            "      --data /data/imagenet --split train --batch 32 --out tokens/in1k.bin"
        })
final class TokenizeCommand implements Callable<Integer> {
    @Mixin
    PresetOption preset;

    @Mixin
    DeviceOption device;

    @Mixin
    TokenizerOption tokenizer;

    @Option(names = "--data", required = true, paramLabel = "<source>",
            description = "fashion-mnist (IDX files in /usr/share/datasets/fashion-mnist), fashion-mnist:<dir>, or an"
                    + " ImageNet-layout folder (one subfolder per class; its train/ or val/ subfolder is used when present).")
    String data;

    @Option(names = "--split", defaultValue = "train", paramLabel = "<train|test>",
            description = "Which half of the data set. Default: ${DEFAULT-VALUE}.")
    Datasets.Split split;

    @Option(names = "--flip", description = "Also store the tokens of every mirrored image (doubles the file).")
    boolean flip;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "<file>", description = "The token cache to write.")
    Path out;

    @Mixin
    BatchOption batch = new BatchOption(64);

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        int batchSize = batch.value();
        if (Files.isDirectory(out)) {
            throw new ParameterException(spec.commandLine(), "--out " + out + " is a folder; name the cache file");
        }
        Path tokenizerFile = tokenizer.file();
        Preset p = ModelFiles.preset(preset, tokenizerFile);
        ImageDataset dataset = Datasets.open(data, split, p.tokenizer().imageSize());
        if (dataset.classNames().size() > p.transformer().classes()) {
            throw new IllegalArgumentException(data + " has " + dataset.classNames().size() + " classes but preset "
                    + p.name() + " has " + p.transformer().classes());
        }
        stdout.printf(Locale.ROOT, "tokenizing %d images of %s (%s, %d px, %d classes)%s with preset %s%n",
                dataset.size(), data, split.name().toLowerCase(Locale.ROOT), dataset.imageSize(),
                dataset.classNames().size(), flip ? " and their mirror images" : "", p.name());
        stdout.flush();
        try (NDManager manager = device.newManager();
                ModelFile.Loaded loaded = ModelFile.read(tokenizerFile, manager, ModelFile.Kind.TOKENIZER, p);
                VqVae vae = loaded.tokenizer()) {
            ProgressBar bar = ProgressBar.stderr("tokenizing", dataset.size(), 0);
            TokenCacheWriter.write(out, dataset, vae, manager, batchSize, flip, done -> bar.update(done, ""));
        }
        stdout.printf(Locale.ROOT, "wrote %s: %d images%s, patch_nums %s, %d bytes%n", out, dataset.size(),
                flip ? " x 2 (with mirrored)" : "", p.tokenizer().schedule(), Files.size(out));
        if (dataset instanceof ImageFolderDataset folder && folder.unreadableCount() > 0) {
            stdout.printf(Locale.ROOT, "skipped %d unreadable file(s); each was replaced by the next readable image%n",
                    folder.unreadableCount());
        }
        return 0;
    }
}
