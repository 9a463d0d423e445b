package ai.mvar.cli;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.TrainingLoop;
import ai.mvar.train.data.Datasets;
import ai.mvar.train.data.ImageDataset;
import ai.mvar.train.tokenizer.TokenizerJob;
import ai.mvar.train.tokenizer.TokenizerTrainer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "train-tokenizer", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Trains the multi-scale VQ tokenizer: reconstruction + VQ commitment loss with the straight-through"
                + " estimator, per-scale codebook usage logged, dead codes re-seeded from recent encoder outputs."
                + " With --init and --decoder-only: fine-tunes the decoder of a trained tokenizer, keeping its tokens.",
                "Writes <out>/checkpoints/, metrics.jsonl, loss.png and, at the end, <out>/tokenizer.safetensors."
                + " Kill it at any time: the same command resumes from the newest checkpoint in --out."},
        footerHeading = "%nExamples:%n",
        footer = {"  ./mvar train-tokenizer --preset fashion-mnist --out runs/fm-tokenizer",
                "  ./mvar train-tokenizer --preset my.json --data /data/imagenet \\",
                "      --steps 100000 --batch 64 --out runs/tok",
                "  ./mvar train-tokenizer --init runs/tok/tokenizer.safetensors --decoder-only \\",
                "      --steps 15000 --lr 5e-4 --ema 0.999 --out runs/tok-decoder"})
final class TrainTokenizerCommand implements Callable<Integer> {
    @Mixin
    PresetOption preset;

    @Mixin
    TrainingOptions training;

    @Option(names = "--data", defaultValue = Datasets.FASHION_MNIST, paramLabel = "<source>",
            description = "'fashion-mnist' (/usr/share/datasets/fashion-mnist), 'fashion-mnist:<dir>' or an ImageNet-layout folder")
    String data;

    @Option(names = "--reconstruction", defaultValue = "L2", description = "L2 or L1 pixel loss (default ${DEFAULT-VALUE})")
    TokenizerTrainer.Reconstruction reconstruction;

    @Option(names = "--reseed-every", defaultValue = "200",
            description = "re-seed codes unused for this many steps; 0 never (default ${DEFAULT-VALUE})")
    int reseedEvery;

    @Option(names = "--gan-weight", defaultValue = "0", paramLabel = "<w>",
            description = "weight of the adversarial loss (PatchGAN discriminator, hinge loss, VQGAN's adaptive weight);"
                    + " 0 turns it off (default ${DEFAULT-VALUE})")
    double ganWeight;

    @Option(names = "--gan-start", defaultValue = "0", paramLabel = "<step>",
            description = "step from which the discriminator trains and the adversarial loss applies (default ${DEFAULT-VALUE})")
    long ganStart;

    @Option(names = "--gan-width", defaultValue = "64", paramLabel = "<n>",
            description = "the discriminator's first-layer channels (default ${DEFAULT-VALUE})")
    int ganWidth;

    @Option(names = "--ema", defaultValue = "0", paramLabel = "<decay>",
            description = "decay of an exponential moving average of the weights that becomes the model"
                    + " (tokenizer-no-ema.safetensors keeps the live weights); 0 for none (default ${DEFAULT-VALUE})")
    double ema;

    @Option(names = "--init", paramLabel = "<file>",
            description = "start from these tokenizer weights instead of a random initialisation")
    Path init;

    @Option(names = "--decoder-only",
            description = "fine-tune only post_quant_conv and the decoder of --init: the encoder, codebook and"
                    + " quantizer stay, so the tokens of every image (token caches, transformers trained on them)"
                    + " stay valid; no VQ loss, no re-seeding")
    boolean decoderOnly;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        int batch = training.batch.value();
        if (decoderOnly && init == null) {
            throw new ParameterException(spec.commandLine(), "--decoder-only fine-tunes a trained tokenizer: give it with --init");
        }
        Preset p = init == null ? preset.require() : ModelFiles.preset(preset, ModelFiles.existing(init, "--init"));
        ImageDataset dataset = Datasets.open(data, Datasets.Split.TRAIN, p.tokenizer().imageSize());
        TokenizerTrainer.Config config;
        try {
            config = TokenizerTrainer.Config.defaults(training.seed).withReseedEvery(reseedEvery)
                    .withReconstruction(reconstruction)
                    .withAdversarial(new TokenizerTrainer.Adversarial(ganWeight, ganStart, ganWidth)).withEma(ema)
                    .withDecoderOnly(decoderOnly);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Path out = training.out;
        try (NDManager m = Torch.newManager();
                VqVae vae = init == null ? VqVae.random(p.tokenizer(), m, training.seed)
                        : ModelFile.read(init, m, ModelFile.Kind.TOKENIZER, p).tokenizer();
                TokenizerTrainer trainer = new TokenizerTrainer(vae, config)) {
            TokenizerJob job = new TokenizerJob(trainer, dataset, batch, training.seed, !training.noFlip, m);
            TrainingLoop.Result r = TrainingLoop.run(job, training.loopOptions(), out, "tokenizer " + p.name(), m);
            Path model = out.resolve("tokenizer.safetensors");
            Map<String, String> meta = new LinkedHashMap<>(Map.of("steps", Long.toString(r.step()), "data", data));
            if (init != null) {
                meta.put("init", init.getFileName().toString());
                meta.put("decoder_only", Boolean.toString(decoderOnly));
            }
            ModelFile.write(model, ModelFile.Kind.TOKENIZER, p, null, trainer.modelWeights(), meta);
            if (ema > 0) {
                ModelFile.write(out.resolve("tokenizer-no-ema.safetensors"), ModelFile.Kind.TOKENIZER, p, null,
                        vae.weights().tensors(), meta);
            }
            String how = r.resumedFrom() >= r.step() ? ", already done: nothing trained"
                    : r.resumedFrom() > 0 ? ", resumed at step " + r.resumedFrom() : "";
            spec.commandLine().getOut().println("tokenizer: " + model + " (" + r.step() + " steps" + how + "); curves " + r.plot());
            spec.commandLine().getOut().flush();
        }
        return 0;
    }
}
