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
import ai.mvar.train.TrainingCheckpoint;
import ai.mvar.train.TrainingLoop;
import ai.mvar.train.data.TokenCache;
import ai.mvar.train.distributed.DataParallel;
import ai.mvar.train.distributed.LaunchEnvironment;
import ai.mvar.train.distributed.LocalLauncher;
import ai.mvar.train.distributed.ProcessGroup;
import ai.mvar.train.transformer.TransformerJob;
import ai.mvar.train.transformer.TransformerTrainer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Trains the VAR or MVAR transformer on a token cache (see 'mvar tokenize') with per-scale"
                + " cross-entropy: MVAR runs ratio_k iterations on the scale-Markov block, then one on each"
                + " neighbourhood scale; VAR trains the whole pyramid under the block-causal mask.",
                "Data parallel, one process per device: --devices gpu0,...,gpu7 (or cpu,cpu) starts one rank per"
                + " entry; under mpirun, srun or torchrun each process is one rank (docs/distributed.md). Each rank"
                + " computes its share of every batch (--batch is the whole batch), the gradients are summed and"
                + " every rank takes the same AdamW step. Rank 0 writes <out>/checkpoints/, metrics.jsonl"
                + " (per-scale loss and accuracy), loss.png and, at the end, <out>/<mode>.safetensors. Kill it,"
                + " or any rank, at any time: the job stops and the same command resumes.",
                "--held-out scores a token cache of images the run does not train on (e.g. the test split's) at every"
                + " checkpoint: teacher-forced cross-entropy and token accuracy per scale with the true classes, as the"
                + " reference trainer's validation pass; the ranks share the images. Rank 0 writes them to"
                + " <out>/held_out.jsonl and draws the held-out loss into loss.png.",
                "--precision fp16 trains with fp32 master weights, fp16 products and dynamic loss scaling (as"
                + " torch.amp's GradScaler: initial scale 2^11, halved and the step skipped on overflow, doubled"
                + " after 1000 good steps); the model file holds the fp32 weights."},
        footerHeading = "%nExamples:%n",
        footer = {"  ./mvar tokenize --tokenizer runs/fm-tokenizer/tokenizer.safetensors \\",
                "      --data fashion-mnist --flip -o runs/fm-train.tokens",
                "  ./mvar train --tokenizer runs/fm-tokenizer/tokenizer.safetensors \\",
                "      --tokens runs/fm-train.tokens --mode mvar -o runs/fm-mvar",
                "  ./mvar tokenize ... --split test -o runs/fm-test.tokens",
                "  ./mvar train ... --held-out runs/fm-test.tokens   loss on test images",
                "  ./mvar train --mode var --devices cpu,cpu --batch 16 ...  two ranks of 8",
                "  ./mvar train --devices gpu0,gpu1,gpu2,gpu3 --batch 256 ...  4 GPUs, 64 each",
                "  srun ./mvar train --devices gpu ...     a rank per Slurm task, on gpu<LOCALID>",
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

    @Option(names = "--held-out", paramLabel = "<file>",
            description = "token cache of held-out images, scored at every checkpoint (held_out.jsonl)")
    Path heldOut;

    @Option(names = "--mode", defaultValue = "MVAR", description = "MVAR or VAR (default ${DEFAULT-VALUE})")
    Mode mode;

    @Option(names = "--init", paramLabel = "<file>",
            description = "start from these transformer weights (e.g. an imported VAR checkpoint: same parameters)")
    Path init;

    @Mixin
    DataParallelOptions parallel;

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
        List<Device> entries = parallel.parsed();
        Optional<LaunchEnvironment> launch = LaunchEnvironment.detect(System.getenv());
        if (launch.isEmpty() && entries.size() > 1) {
            return launchRanks(entries);
        }
        Device device = launch.isPresent() ? parallel.rankDevice(launch.get()) : DeviceOption.parse(parallel.devices.get(0));
        try (ProcessGroup group = launch.isPresent()
                ? DataParallel.join(launch.get(), device, parallel.backend(device), parallel.timeouts())
                : ProcessGroup.single()) {
            try {
                train(device, group);
            } catch (Exception e) {
                group.fail(e);
                throw e;
            }
        }
        return 0;
    }

    /** Trains as rank {@code group.rank()} on {@code device}; rank 0 writes the run folder and the model. */
    private void train(Device device, ProcessGroup group) throws Exception {
        int batch = training.batch.value();
        Path tokenizerFile = tokenizer.file();
        ModelFiles.existing(tokens, "--tokens");
        if (heldOut != null) {
            ModelFiles.existing(heldOut, "--held-out");
        }
        Preset p = ModelFiles.preset(preset, tokenizerFile);
        AdamW.Config optimizer = AdamW.Config.reference().withWeightDecay(weightDecay).withMaxGradNorm(gradClip)
                .withAccumulation(accumulation);
        TransformerTrainer.Config config = new TransformerTrainer.Config(mode, ratioK, labelSmoothing, classDropout,
                training.seed, optimizer).withPrecision(precision.resolve(device));
        try (NDManager m = Torch.newManager(device);
                TokenCache cache = TokenCache.open(tokens);
                TokenCache heldOutCache = heldOut == null ? null : TokenCache.open(heldOut);
                ModelFile.Loaded vaeFile = ModelFile.read(tokenizerFile, m, ModelFile.Kind.TOKENIZER, p);
                VqVae vae = vaeFile.tokenizer();
                Transformer master = init == null ? Transformer.random(p.transformer(), m, training.seed)
                        : ModelFile.read(init, m, ModelFile.Kind.TRANSFORMER, p).transformer(Precision.FP32);
                TransformerTrainer trainer = new TransformerTrainer(master, vae, config, group, parallel.bucketBytes())) {
            cache.requireTokens(p.transformer().schedule(), p.transformer().vocabSize(), "the preset " + p.name());
            if (heldOutCache != null) {
                heldOutCache.requireTokens(p.transformer().schedule(), p.transformer().vocabSize(), "the preset " + p.name());
            }
            boolean flip = !training.noFlip && cache.hasFlipped();
            TransformerJob job = new TransformerJob(trainer, cache, batch, training.seed, flip, heldOutCache, m);
            String name = mode.name().toLowerCase(Locale.ROOT);
            TrainingLoop.Result r = TrainingLoop.run(job, training.loopOptions(), training.out, name + " " + p.name(), m,
                    group);
            if (group.rank() != 0) {
                return;
            }
            Path model = training.out.resolve(name + ".safetensors");
            ModelFile.write(model, ModelFile.Kind.TRANSFORMER, p, mode, trainer.model().weights().tensors(),
                    Map.of("steps", Long.toString(r.step()), "tokens", tokens.getFileName().toString()));
            String how = r.resumedFrom() >= r.step() ? ", already done: nothing trained"
                    : r.resumedFrom() > 0 ? ", resumed at step " + r.resumedFrom() : "";
            spec.commandLine().getOut().println(name + ": " + model + " (" + r.step() + " steps" + how + "); curves " + r.plot());
            spec.commandLine().getOut().flush();
        }
    }

    /** Runs this same command as one rank per entry of --devices and waits for the job. */
    private int launchRanks(List<Device> entries) throws IOException {
        LocalLauncher.Result r = LocalLauncher.run(workerCommand(), entries.size(), parallel.backend(entries.get(0)),
                spec.commandLine().getOut(), spec.commandLine().getErr(), parallel.timeouts().rendezvousTimeout());
        if (!r.ok()) {
            Path newest = new TrainingCheckpoint(training.out.resolve("checkpoints"), 1).checkpoints().stream()
                    .findFirst().orElse(null);
            throw new IllegalStateException(r.failure().orElse("a rank failed (exit code " + r.exitCode() + ")")
                    + "; the job was stopped. " + (newest == null ? "No checkpoint was written yet."
                            : "Run the same command to resume from " + newest + "."));
        }
        return 0;
    }

    /** This JVM's command line: the same Java, JVM options, class path and arguments. */
    private List<String> workerCommand() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> jvm = ManagementFactory.getRuntimeMXBean().getInputArguments();
        cmd.addAll(jvm);
        String home = System.getProperty(Home.PROPERTY);
        if (home != null && jvm.stream().noneMatch(a -> a.startsWith("-D" + Home.PROPERTY + "="))) {
            cmd.add("-D" + Home.PROPERTY + "=" + home);
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Mvar.class.getName());
        cmd.addAll(spec.root().commandLine().getParseResult().originalArgs());
        return cmd;
    }
}
