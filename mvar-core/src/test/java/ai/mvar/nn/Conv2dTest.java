package ai.mvar.nn;

import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.mvar.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The training convolution equals the native one, and its gradients stay finite. */
class Conv2dTest {

    @ParameterizedTest(name = "{0}->{1}, k{2}, stride {3}, pad {4}")
    @CsvSource({"3,8,3,1,1", "8,8,3,2,0", "16,4,1,1,0", "5,7,3,1,1"})
    void im2colEqualsTheNativeConvolution(int in, int out, int kernel, int stride, int pad) {
        try (NDManager m = Torch.newManager(); StateDict sd = new StateDict(m.newSubManager(), "test")) {
            Conv2d conv = new Conv2d(new InitParams(sd, 3).root(), in, out, kernel, stride, pad);
            NDArray x = m.randomNormal(new Shape(2, in, 9, 9));
            Tolerance.assertClose(conv.im2col(x), conv.forward(x), 1e-6, "im2col vs native");
        }
    }

    @Test
    void chainedFewChannelConvolutionsHaveFiniteGradients() {
        // libtorch's native backward returned NaN for this pattern in about a third of the runs
        for (int seed = 0; seed < 20; seed++) {
            try (NDManager m = Torch.newManager(); StateDict sd = new StateDict(m.newSubManager(), "test")) {
                Params p = new InitParams(sd, seed).root();
                Conv2d first = Conv2d.same(p.child("a"), 64, 8, 3);
                Conv2d second = Conv2d.same(p.child("b"), 8, 8, 3);
                sd.tensors().values().forEach(t -> t.setRequiresGradient(true));
                try (NDScope scope = new NDScope(); GradientCollector gc = Torch.engine().newGradientCollector()) {
                    scope.suppressNotUsedWarning();
                    NDArray x = m.randomNormal(new Shape(2, 64, 8, 8));
                    x.setRequiresGradient(true);
                    gc.backward(second.forward(first.forward(x)).square().mean());
                    assertFalse(x.getGradient().isNaN().any().getBoolean(), "NaN input gradient with seed " + seed);
                }
            }
        }
    }

    /** Where the native backward is used, its gradients equal im2col's (which the NaN test guards). */
    @ParameterizedTest(name = "{0}->{1}, k{2}, stride {3}, pad {4}")
    @CsvSource({"3,32,3,1,1", "32,3,3,1,1", "32,32,3,1,1", "16,16,3,1,1", "16,64,1,1,0", "64,64,3,2,0", "32,16,1,1,0"})
    void nativeGradientsEqualIm2col(int in, int out, int kernel, int stride, int pad) {
        for (int seed = 0; seed < 5; seed++) {
            try (NDManager m = Torch.newManager(); StateDict sd = new StateDict(m.newSubManager(), "test")) {
                Conv2d conv = new Conv2d(new InitParams(sd, seed).root(), in, out, kernel, stride, pad);
                sd.tensors().values().forEach(t -> t.setRequiresGradient(true));
                NDArray x = m.randomNormal(new Shape(3, in, 10, 10));
                x.setRequiresGradient(true);
                NDArray[] grads = new NDArray[4];
                for (int path = 0; path < 2; path++) {
                    try (NDScope scope = new NDScope(); GradientCollector gc = Torch.engine().newGradientCollector()) {
                        scope.suppressNotUsedWarning();
                        NDArray y = path == 0 ? conv.forward(x) : conv.im2col(x);
                        gc.backward(y.mul(y.sin()).sum());
                    }
                    grads[2 * path] = x.getGradient().duplicate();
                    grads[2 * path + 1] = sd.get("weight").getGradient().duplicate();
                    x.getGradient().set(new ai.djl.ndarray.index.NDIndex("..."), 0f);
                    sd.tensors().values().forEach(t -> t.getGradient().set(new ai.djl.ndarray.index.NDIndex("..."), 0f));
                }
                Tolerance.assertClose(grads[0], grads[2], 1e-5, "input gradient, seed " + seed);
                Tolerance.assertClose(grads[1], grads[3], 1e-5, "weight gradient, seed " + seed);
            }
        }
    }
}
