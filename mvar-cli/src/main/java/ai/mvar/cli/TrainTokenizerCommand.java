package ai.mvar.cli;

import ai.djl.ndarray.NDManager;
import ai.mvar.config.Preset;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.LrSchedule;
import ai.mvar.train.TrainingLoop;
import ai.mvar.train.data.FashionMnist;
import ai.mvar.train.data.ImageDataset;
import ai.mvar.train.tokenizer.TokenizerJob;
import ai.mvar.train.tokenizer.TokenizerTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train-tokenizer", mixinStandardHelpOptions = true,
        description = "Trains the multi-scale VQ tokenizer: reconstruction + VQ commitment loss with the straight-through"
                + " estimator, per-scale codebook usage logged, dead codes re-seeded from recent encoder outputs."
                + " Kill it at any time; the same command resumes from the newest checkpoint in --out.",
        footer = {"", "Example:", "  ./mvar train-tokenizer --preset fashion-mnist --data fashion-mnist --out runs/fm-tokenizer"})
final class TrainTokenizerCommand implements Callable<Integer> {
    @Option(names = "--preset", required = true, description = "preset name (configs/<name>.json) or JSON file")
    String preset;

    @Option(names = "--data", defaultValue = "fashion-mnist",
            description = "'fashion-mnist' (idx files in /usr/share/datasets/fashion-mnist) or an ImageNet-layout folder")
    String data;

    @Option(names = "--out", required = true, description = "run folder: checkpoints/, metrics.jsonl, loss.png")
    Path out;

    @Option(names = "--steps", defaultValue = "3000", description = "training iterations (default ${DEFAULT-VALUE})")
    long steps;

    @Option(names = "--batch", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "1e-3", description = "peak learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--warmup", defaultValue = "100", description = "warm-up iterations (default ${DEFAULT-VALUE})")
    long warmup;

    @Option(names = "--lr-schedule", defaultValue = "COSINE", description = "LIN0 or COSINE (default ${DEFAULT-VALUE})")
    LrSchedule.Shape schedule;

    @Option(names = "--reconstruction", defaultValue = "L2", description = "L2 or L1 pixel loss (default ${DEFAULT-VALUE})")
    TokenizerTrainer.Reconstruction reconstruction;

    @Option(names = "--reseed-every", defaultValue = "200",
            description = "re-seed codes unused for this many steps; 0 never (default ${DEFAULT-VALUE})")
    int reseedEvery;

    @Option(names = "--no-flip", description = "no random horizontal flips")
    boolean noFlip;

    @Option(names = "--seed", defaultValue = "0", description = "seeds initialisation, data order and re-seeding")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "200", description = "default ${DEFAULT-VALUE}")
    int checkpointEvery;

    @Option(names = "--keep", defaultValue = "3", description = "checkpoints kept (default ${DEFAULT-VALUE})")
    int keep;

    @Override
    public Integer call() throws Exception {
        Preset p = Presets.resolve(preset);
        ImageDataset dataset = DataSets.open(data, FashionMnist.Split.TRAIN, p.tokenizer().imageSize());
        TokenizerTrainer.Config config = TokenizerTrainer.Config.defaults(seed).withReseedEvery(reseedEvery)
                .withReconstruction(reconstruction);
        try (NDManager m = Torch.newManager();
                VqVae vae = VqVae.random(p.tokenizer(), m, seed);
                TokenizerTrainer trainer = new TokenizerTrainer(vae, config)) {
            TokenizerJob job = new TokenizerJob(trainer, dataset, batch, seed, !noFlip, m);
            TrainingLoop.Options options = new TrainingLoop.Options(steps, LrSchedule.of(schedule, lr, warmup, steps),
                    checkpointEvery, keep, 50);
            Files.createDirectories(out);
            TrainingLoop.Result r = TrainingLoop.run(job, options, out, "tokenizer " + p.name(), m);
            System.out.println("trained " + r.step() + " steps; checkpoint " + r.lastCheckpoint() + ", curves " + r.plot());
        }
        return 0;
    }
}
