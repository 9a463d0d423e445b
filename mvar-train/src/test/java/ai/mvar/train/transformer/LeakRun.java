package ai.mvar.train.transformer;

import ai.djl.ndarray.NDManager;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.ProcessMemory;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.TinyModels;
import ai.mvar.train.data.TokenCache.TokenBatch;

/**
 * MVAR training with two micro-batches per update in a child JVM whose heap is fixed and touched up front, so its
 * resident memory shows native allocations only (run by {@link TransformerTrainerTest}). After
 * {@code warm-up} steps (the allocator and the JIT settle) it trains {@code steps} more and prints
 * {@code LEAK <arrays before> <arrays after> <resident before> <resident after> <model bytes>}.
 */
public final class LeakRun {
    private LeakRun() {}

    public static void main(String[] args) {
        int warmUp = Integer.parseInt(args[0]);
        int steps = Integer.parseInt(args[1]);
        TransformerConfig tiny = TinyModels.transformer();
        TransformerConfig wide = new TransformerConfig(2, 128, 2, 64, 3, 8, tiny.schedule(), 2, 3, true, 4.0);
        try (NDManager m = Torch.newManager(); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5);
                Transformer t = Transformer.random(wide, m, 3);
                TransformerTrainer trainer = new TransformerTrainer(t, vae, TransformerTrainer.Config.reference(Mode.MVAR, 1)
                        .withRatioK(1).withOptimizer(AdamW.Config.reference().withAccumulation(2)))) {
            TokenBatch batch = TransformerTrainerTest.randomBatch(m, 8, 2);
            long modelBytes = 4 * t.weights().tensors().values().stream().mapToLong(a -> a.getShape().size()).sum();
            for (int i = 0; i < warmUp; i++) {
                trainer.step(batch, 1e-3);
            }
            int arrays = m.getManagedArrays().size();
            long resident = trimmedResidentBytes();
            for (int i = 0; i < steps; i++) {
                trainer.step(batch, 1e-3);
            }
            System.out.println("LEAK " + arrays + " " + m.getManagedArrays().size() + " " + resident + " "
                    + trimmedResidentBytes() + " " + modelBytes);
        }
    }

    /** Resident memory once the C heap has returned its free pages: what is freed cannot count as kept. */
    private static long trimmedResidentBytes() {
        ProcessMemory.trimNativeHeap();
        return ProcessMemory.residentBytes();
    }
}
