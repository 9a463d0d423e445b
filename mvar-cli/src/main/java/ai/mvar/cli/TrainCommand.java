package ai.mvar.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.TrainingLoop;
import ai.mvar.train.data.TokenCache;
import ai.mvar.train.transformer.TransformerJob;
import ai.mvar.train.transformer.TransformerTrainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Trains the VAR or MVAR transformer on a token cache (see 'mvar tokenize') with per-scale"
                + " cross-entropy: MVAR runs ratio_k iterations on the scale-Markov block, then one on each"
                + " neighbourhood scale; VAR trains the whole pyramid under the block-causal mask.",
                "Data parallel over --devices (one replica each, gradients summed, one optimizer). Writes"
                + " <out>/checkpoints/, metrics.jsonl (per-scale loss and accuracy), loss.png and, at the end,"
                + " <out>/<mode>.safetensors. Kill it at any time: the same command resumes.",
                "--precision fp16 trains with fp32 master weights, fp16 products and dynamic loss scaling (as"
                + " torch.amp's GradScaler: initial scale 2^11, halved and the step skipped on overflow, doubled"
                + " after 1000 good steps); the model file holds the fp32 weights."},
        footerHeading = "%nExamples:%n",
        footer = {"  ./mvar tokenize --tokenizer runs/fm-tokenizer/tokenizer.safetensors \\",
                "      --data fashion-mnist --flip -o runs/fm-train.tokens",
                "  ./mvar train --tokenizer runs/fm-tokenizer/tokenizer.safetensors \\",
                "      --tokens runs/fm-train.tokens --mode mvar -o runs/fm-mvar",
                "  ./mvar train --mode var --devices cpu,cpu --batch 16 ...  two replicas of 8",
                "  ./mvar train --devices gpu0 --precision fp16 ...          mixed precision",
                "  ./mvar train --init var_d16.safetensors --mode mvar ...   MVAR from VAR"})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    PresetOption preset;

    @Mixin
    TrainingOptions training;

    @Mixin
    TokenizerOption tokenizer;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--tokens", required = true, paramLabel = "<file>", description = "token cache written by 'mvar tokenize'")
    Path tokens;

    @Option(names = "--mode", defaultValue = "MVAR", description = "MVAR or VAR (default ${DEFAULT-VALUE})")
    Mode mode;

    @Option(names = "--init", paramLabel = "<file>",
            description = "start from these transformer weights (e.g. an imported VAR checkpoint: same parameters)")
    Path init;

    @Option(names = "--devices", defaultValue = "cpu", split = ",", paramLabel = "<device>",
            description = "one replica per entry, e.g. gpu0,gpu1 or cpu,cpu (default ${DEFAULT-VALUE})")
    List<String> devices;

    @Option(names = "--ratio-k", defaultValue = "8", description = "MVAR: iterations on the scale-Markov block per round (default ${DEFAULT-VALUE})")
    int ratioK;

    @Option(names = "--label-smoothing", defaultValue = "0", description = "default ${DEFAULT-VALUE}")
    double labelSmoothing;

    @Option(names = "--class-dropout", defaultValue = "0.1", description = "share of labels dropped for guidance (default ${DEFAULT-VALUE})")
    double classDropout;

    @Option(names = "--weight-decay", defaultValue = "0.05", description = "default ${DEFAULT-VALUE}")
    double weightDecay;

    @Option(names = "--grad-clip", defaultValue = "2.0", description = "global gradient norm clip; 0 off (default ${DEFAULT-VALUE})")
    double gradClip;

    @Option(names = "--accumulation", defaultValue = "1", description = "micro-batches per update (default ${DEFAULT-VALUE})")
    int accumulation;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<Device> replicas = new ArrayList<>();
        for (String d : devices) {
            try {
                replicas.add(DeviceOption.parse(d));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--devices: " + e.getMessage());
            }
        }
        int batch = training.batch.value();
        Path tokenizerFile = tokenizer.file();
        ModelFiles.existing(tokens, "--tokens");
        Preset p = ModelFiles.preset(preset, tokenizerFile);
        AdamW.Config optimizer = AdamW.Config.reference().withWeightDecay(weightDecay).withMaxGradNorm(gradClip)
                .withAccumulation(accumulation);
        TransformerTrainer.Config config = new TransformerTrainer.Config(mode, ratioK, labelSmoothing, classDropout,
                training.seed, optimizer).withPrecision(precision.resolve(replicas.get(0)));
        try (NDManager m = Torch.newManager(replicas.get(0));
                TokenCache cache = TokenCache.open(tokens);
                ModelFile.Loaded vaeFile = ModelFile.read(tokenizerFile, m, ModelFile.Kind.TOKENIZER, p);
                VqVae vae = vaeFile.tokenizer();
                Transformer master = init == null ? Transformer.random(p.transformer(), m, training.seed)
                        : ModelFile.read(init, m, ModelFile.Kind.TRANSFORMER, p).transformer(Precision.FP32);
                TransformerTrainer trainer = new TransformerTrainer(master, replicas, vae, config)) {
            if (!cache.schedule().equals(p.transformer().schedule()) || cache.vocabSize() != p.transformer().vocabSize()) {
                throw new IllegalArgumentException(tokens + " holds patch_nums " + cache.schedule() + " over " + cache.vocabSize()
                        + " codes; the preset " + p.name() + " has " + p.transformer().schedule() + " over "
                        + p.transformer().vocabSize());
            }
            boolean flip = !training.noFlip && cache.hasFlipped();
            TransformerJob job = new TransformerJob(trainer, cache, batch, training.seed, flip, m);
            String name = mode.name().toLowerCase(Locale.ROOT);
            TrainingLoop.Result r = TrainingLoop.run(job, training.loopOptions(), training.out, name + " " + p.name(), m);
            Path model = training.out.resolve(name + ".safetensors");
            ModelFile.write(model, ModelFile.Kind.TRANSFORMER, p, mode, trainer.model().weights().tensors(),
                    Map.of("steps", Long.toString(r.step()), "tokens", tokens.getFileName().toString()));
            String how = r.resumedFrom() >= r.step() ? ", already done: nothing trained"
                    : r.resumedFrom() > 0 ? ", resumed at step " + r.resumedFrom() : "";
            spec.commandLine().getOut().println(name + ": " + model + " (" + r.step() + " steps" + how + "); curves " + r.plot());
            spec.commandLine().getOut().flush();
        }
        return 0;
    }
}
