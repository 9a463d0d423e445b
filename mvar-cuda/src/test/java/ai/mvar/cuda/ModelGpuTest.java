package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import ai.mvar.nn.InitParams;
import ai.mvar.nn.Precision;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
import ai.mvar.sampling.Sampler;
import ai.mvar.sampling.Samples;
import ai.mvar.sampling.SamplingOptions;
import ai.mvar.testing.FixtureSet;
import ai.mvar.testing.LogitParity;
import ai.mvar.testing.ReferenceFixtures;
import ai.mvar.testing.SamplingParity;
import ai.mvar.testing.Tolerance;
import ai.mvar.tokenizer.VqVae;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The model on a GPU through DJL's engine, with the fused neighbourhood kernel inside the
 * transformer: the reference's logits in fp32 (1e-4) and fp16 (1e-2) and its greedy samples, on
 * every fixture set; the same seed giving the same images; the kernel declined under autograd.
 * Needs a CUDA build of DJL's engine and a GPU (skipped otherwise; the device script counts a skip
 * as a failure). fp32 parity needs TF32 off for cuDNN's convolutions (NVIDIA_TF32_OVERRIDE=0), as
 * the fixtures were made.
 */
class ModelGpuTest {
    private static final Device GPU = Device.gpu();

    @BeforeAll
    static void needsAGpu() {
        assumeTrue(Torch.engine().getGpuCount() > 0, "DJL's PyTorch engine sees no GPU");
    }

    static List<FixtureSet> sets() {
        return ReferenceFixtures.sets();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void fp32LogitsMatchTheReference(FixtureSet set) {
        LogitParity.mvar(set, GPU, Precision.FP32, Tolerance.PARITY);
        LogitParity.var(set, GPU, Precision.FP32, Tolerance.PARITY);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void fp16LogitsWithin1e2(FixtureSet set) {
        LogitParity.mvar(set, GPU, Precision.FP16, 1e-2);
        LogitParity.var(set, GPU, Precision.FP16, 1e-2);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void greedySamplesMatchTheReference(FixtureSet set) {
        SamplingParity.mvar(set, GPU);
        SamplingParity.var(set, GPU);
    }

    /**
     * Inside the transformer, a neighbourhood scale's attention runs on the fused kernel in fp32 and
     * fp16; while gradients are recorded the tiled kernel runs instead, and the logits agree.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void theFusedKernelRunsInsideTheTransformer(FixtureSet set) {
        TransformerConfig c = set.transformerConfig();
        int scale = c.schedule().scales() - 1;
        int side = c.schedule().side(scale);
        assumeTrue(scale >= c.refineStep(), set + " has no neighbourhood scale");
        try (NDManager m = Torch.newManager(GPU);
                StateDict ref = set.mvarTensors(m.newSubManager());
                Transformer mvar = Transformer.load(c, ref.extract("mvar", m.newSubManager()))) {
            for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT16}) {
                NDArray q = m.zeros(new Shape(2, c.heads(), (long) side * side, c.headDim()), type);
                assertEquals("cuda-fused", NeighbourhoodAttention.kernelFor(q, c.kernelSize()).name(), type.toString());
                try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                    assertFalse(NeighbourhoodAttention.kernelFor(q, c.kernelSize()) instanceof CudaNeighbourhoodKernel,
                            "the fused kernel has no autograd history: declined while recording");
                }
            }
            NDArray labels = FixtureSet.require(ref, "in.label");
            NDArray xIn = FixtureSet.require(ref, "out.x_in");
            NDArray fused = mvar.logits(labels, xIn, scale, scale + 1, Mode.MVAR);
            NDArray tiled;
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                tiled = mvar.logitsUnscoped(labels, xIn, scale, scale + 1, Mode.MVAR);
            }
            Tolerance.assertParity(fused, tiled, set + " fused vs tiled kernel, scale " + scale);
        }
    }

    /** Real sampling settings (top-k, top-p, guidance) in fp16: a seed fixes the images on the GPU. */
    @Test
    void sameSeedSameImages() {
        FixtureSet set = ReferenceFixtures.sets().get(0);
        try (NDManager m = Torch.newManager(GPU);
                Transformer t = Transformer.initialise(set.transformerConfig(),
                        new InitParams(new StateDict(m.newSubManager(), "random"), 5), Precision.FP16);
                VqVae vae = VqVae.random(set.vaeConfig(), m, 6)) {
            Sampler sampler = new Sampler(t, vae);
            long[] labels = {0, 1, 2, 3};
            List<long[]> draws = new ArrayList<>();
            for (long seed : new long[] {11, 11, 12}) {
                try (NDManager run = m.newSubManager();
                        Samples s = sampler.sample(run.create(labels), new SamplingOptions(Mode.MVAR, 1.5,
                                Math.max(2, set.transformerConfig().vocabSize() / 2), 0.9, seed))) {
                    long[] all = s.indices().stream().flatMap(i -> java.util.Arrays.stream(i.toLongArray()).boxed())
                            .mapToLong(Long::longValue).toArray();
                    draws.add(all);
                    assertEquals(DataType.FLOAT32, s.images().getDataType());
                }
            }
            assertEquals(java.util.Arrays.toString(draws.get(0)), java.util.Arrays.toString(draws.get(1)), "same seed");
            assertNotEquals(java.util.Arrays.toString(draws.get(0)), java.util.Arrays.toString(draws.get(2)), "another seed");
        }
    }
}
