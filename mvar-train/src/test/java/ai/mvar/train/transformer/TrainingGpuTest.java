package ai.mvar.train.transformer;

import static ai.mvar.testing.FixtureSet.require;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.mvar.attention.NeighbourhoodAttention;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Scope;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Tensors;
import ai.mvar.nn.Torch;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.ReferenceFixtures;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.AdamW;
import ai.mvar.train.GradientLeaves;
import ai.mvar.train.TinyModels;
import ai.mvar.train.data.TokenCache.TokenBatch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Training on a GPU: the gradients of a training pass (the reference's weights of the first fixture
 * set, its teacher input, the reference's loss) on the GPU equal the CPU's, in fp32 to 1e-4 (all
 * of them together and each tensor) and in fp16 (fp16 leaves of the fp32 weights, fp32 norms,
 * softmax and loss) within 2e-2 of the CPU's fp32 together and 1e-1 per tensor (small gradients
 * such as a bias's carry fp16's rounding of the larger ones), for MVAR's block pass and each neighbourhood scale and for VAR's pyramid; and the trainer
 * trains in fp16 on the GPU. Needs a CUDA build of DJL's engine and a GPU (skipped otherwise; the
 * device script counts a skip as a failure); TF32 off (NVIDIA_TF32_OVERRIDE=0).
 */
class TrainingGpuTest {
    private static final Device GPU = Device.gpu();

    @BeforeAll
    static void needsAGpu() {
        assumeTrue(Torch.engine().getGpuCount() > 0, "DJL's PyTorch engine sees no GPU");
    }

    /** One fixture-sized model is enough here (every set's logits are checked by ModelGpuTest): the device run is short. */
    static List<FixtureSet> sets() {
        return ReferenceFixtures.sets().subList(0, 1);
    }

    /** Every pass's gradients on the GPU in fp32 and in fp16 against the CPU's in fp32. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void gpuGradientsEqualTheCpusInFp32AndComeWithin2e2InFp16(FixtureSet set) {
        TransformerConfig c = set.transformerConfig();
        List<int[]> passes = new ArrayList<>();
        passes.add(new int[] {0, c.refineStep(), 0});
        for (int s = c.refineStep(); s < c.schedule().scales(); s++) {
            passes.add(new int[] {s, s + 1, 0});
        }
        passes.add(new int[] {0, c.schedule().scales(), 1});
        for (int[] pass : passes) {
            Mode mode = pass[2] == 1 ? Mode.VAR : Mode.MVAR;
            Map<String, float[]> cpu = gradients(set, Device.cpu(), Precision.FP32, mode, pass[0], pass[1]);
            String what = set + " " + mode + " [" + pass[0] + ", " + pass[1] + ") ";
            compare(cpu, gradients(set, GPU, Precision.FP32, mode, pass[0], pass[1]), 1e-4, 1e-4, what + "fp32");
            compare(cpu, gradients(set, GPU, Precision.FP16, mode, pass[0], pass[1]), 2e-2, 1e-1, what + "fp16");
        }
    }

    /** The GPU's gradients against the CPU's: over all tensors together, and per tensor. */
    private static void compare(Map<String, float[]> cpu, Map<String, float[]> gpu, double tolerance, double perTensor,
            String what) {
        assertEquals(cpu.keySet(), gpu.keySet(), what + ": the same parameters are reached");
        double num = 0;
        double den = 0;
        for (String k : cpu.keySet()) {
            double[] d = diff(gpu.get(k), cpu.get(k));
            num += d[0];
            den += d[1];
        }
        double global = Math.sqrt(num / den);
        assertTrue(global <= tolerance, what + ": gradients differ by " + global + " (relative L2 over all)");
        for (String k : cpu.keySet()) {
            double[] d = diff(gpu.get(k), cpu.get(k));
            if (d[1] > 1e-12 * den) { // tensors whose gradient is not lost in the others' rounding
                double err = Math.sqrt(d[0] / d[1]);
                assertTrue(err <= perTensor, what + ": " + k + " differs by " + err);
            }
        }
    }

    /** The gradient of the reference's loss for one pass over the fixture's teacher input, by parameter. */
    private static Map<String, float[]> gradients(FixtureSet set, Device device, Precision precision, Mode mode, int from,
            int to) {
        Map<String, float[]> out = new LinkedHashMap<>();
        TransformerConfig c = set.transformerConfig();
        try (NDManager m = Torch.newManager(device);
                StateDict inputs = set.mvarTensors(m.newSubManager());
                StateDict ref = mode == Mode.VAR ? set.varTensors(m.newSubManager()) : inputs;
                StateDict master = ref.extract(mode == Mode.VAR ? "var" : "mvar", m.newSubManager());
                GradientLeaves leaves = GradientLeaves.of(trainable(master, c), precision.dataType(), device)) {
            Transformer model = Transformer.load(c, leaves.stateDict(), precision);
            NDArray labels = require(inputs, "in.label");
            NDArray teacher = require(ref, "out.x_in");
            long b = labels.getShape().get(0);
            long n = c.schedule().begin(to) - c.schedule().begin(from);
            long[] t = new long[(int) (b * n)];
            SplittableRandom r = new SplittableRandom(from * 31L + to);
            for (int i = 0; i < t.length; i++) {
                t[i] = r.nextInt(c.vocabSize());
            }
            Scope.run(() -> {
                NDArray targets = Tensors.of(m, t, new Shape(b, n));
                try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                    NDArray logits = model.logitsUnscoped(labels, teacher, from, to, mode);
                    gc.backward(TokenLoss.of(logits, targets, 0.1, c.schedule(), from, to).loss());
                }
                leaves.stateDict().keys().forEach(k -> {
                    NDArray g = leaves.gradient(k);
                    if (g != null) {
                        out.put(k, g.toType(DataType.FLOAT32, false).toFloatArray());
                    }
                });
            });
        }
        return out;
    }

    /** The master weights without the buffers the model derives. */
    private static Map<String, NDArray> trainable(StateDict weights, TransformerConfig c) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        var buffers = Transformer.spec(c).buffers().keySet();
        weights.tensors().forEach((k, v) -> {
            if (!buffers.contains(k)) {
                out.put(k, v);
            }
        });
        return out;
    }

    /** Squared L2 distance and squared norm of the reference {@code b}. */
    private static double[] diff(float[] a, float[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (double) (a[i] - b[i]);
            den += (double) b[i] * b[i];
        }
        return new double[] {num, den};
    }

    /**
     * The trainer on the GPU in fp16: fp32 master weights there, the loss falls on one memorised
     * batch, no step overflows at the reference's initial loss scale, and the neighbourhood scales
     * train on a kernel with autograd history (the fused CUDA kernel declines while gradients are
     * recorded).
     */
    @Test
    void theTrainerTrainsInFp16OnTheGpu() {
        try (NDManager m = Torch.newManager(GPU); VqVae vae = VqVae.random(TinyModels.tokenizer(), m, 5);
                Transformer t = Transformer.random(TinyModels.transformer(), m, 3)) {
            TokenBatch batch = TransformerTrainerTest.randomBatch(m, 8, 2);
            TransformerTrainer.Config config = TransformerTrainer.Config.reference(Mode.MVAR, 1).withRatioK(1)
                    .withPrecision(Precision.FP16).withOptimizer(AdamW.Config.reference().withWeightDecay(0));
            try (TransformerTrainer trainer = new TransformerTrainer(t, vae, config)) {
                double[] first = new double[3];
                double[] last = new double[3];
                for (int i = 0; i < 60; i++) {
                    TransformerTrainer.StepResult r = trainer.step(batch, 3e-3);
                    assertEquals(AdamW.Outcome.APPLIED, r.optimizer().outcome(), "step " + (i + 1));
                    (i < 3 ? first : last)[i % 3] = r.loss();
                }
                for (int s = 0; s < 3; s++) {
                    assertTrue(last[s] < 0.7 * first[s], "span " + s + ": loss " + first[s] + " -> " + last[s]);
                }
            }
            NDArray w = t.weights().get("head.weight");
            assertEquals(DataType.FLOAT32, w.getDataType());
            assertTrue(w.getDevice().isGpu());
            int side = t.config().schedule().side(t.config().schedule().scales() - 1);
            try (NDArray q = m.zeros(new Shape(1, t.config().heads(), (long) side * side, t.config().headDim()),
                    DataType.FLOAT16); GradientCollector gc = Torch.engine().newGradientCollector()) {
                assertTrue(NeighbourhoodAttention.kernelFor(q, t.config().kernelSize()).differentiable(),
                        "the fused kernel has no backward wired in: it must decline under autograd");
            }
        }
    }
}
