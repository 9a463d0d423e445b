package ai.mvar.cuda;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.TensorMemory;
import ai.mvar.attention.NeighbourhoodKernel;

/**
 * {@link NeighbourhoodKernel} on GPU tensors of DJL's PyTorch engine: the fused CUDA forward,
 * reading and writing the tensors' device memory in place. Its output has no autograd history
 * (not {@link #differentiable()}), so training runs a differentiable kernel instead.
 */
public final class CudaNeighbourhoodKernel implements NeighbourhoodKernel {

    @Override
    public NDArray forward(NDArray q, NDArray k, NDArray v, int side, int kernelSize, float scale) {
        if (!supports(q)) {
            throw new IllegalArgumentException("the CUDA kernel cannot run on " + q.getDevice() + " "
                    + q.getDataType() + " " + q.getShape() + "; check supports() first");
        }
        Shape shape = q.getShape();
        if (!shape.equals(k.getShape()) || !shape.equals(v.getShape())) {
            throw new IllegalArgumentException("q, k, v shapes differ: " + shape + " " + k.getShape() + " " + v.getShape());
        }
        if (k.getDataType() != q.getDataType() || v.getDataType() != q.getDataType()
                || !k.getDevice().equals(q.getDevice()) || !v.getDevice().equals(q.getDevice())) {
            throw new IllegalArgumentException("q, k, v must share data type and device");
        }
        if (shape.get(2) != (long) side * side) {
            throw new IllegalArgumentException(shape.get(2) + " tokens is not a " + side + "x" + side + " map");
        }
        NaGeometry g = new NaGeometry(Math.toIntExact(shape.get(0) * shape.get(1)), side, kernelSize,
                (int) shape.get(3), precisionOf(q.getDataType()));
        NaLauncher launcher = new NaLauncher(module(q));
        PtNDManager owner = (PtNDManager) q.getManager();
        PtNDArray out = TensorMemory.empty(owner, shape, q.getDataType(), q.getDevice());
        // Copies made for layout are freed right after the launch: PyTorch's caching allocator
        // hands their memory only to later work on the same stream, which runs after the kernel.
        try (NDManager scratch = owner.newSubManager()) {
            launcher.forward(g, address(q, g, scratch), address(k, g, scratch), address(v, g, scratch),
                    TensorMemory.dataAddress(out), 0L, scale);
        }
        return out;
    }

    @Override
    public boolean supports(NDArray q) {
        return q instanceof PtNDArray
                && q.getDevice().isGpu()
                && (q.getDataType() == DataType.FLOAT32 || q.getDataType() == DataType.FLOAT16)
                && q.getShape().dimension() == 4
                && NaGeometry.HEAD_DIMS.contains((int) q.getShape().get(3))
                && CudaModule.forDevice(q.getDevice().getDeviceId()).isPresent();
    }

    @Override
    public String name() {
        return "cuda-fused";
    }

    static Precision precisionOf(DataType type) {
        switch (type) {
            case FLOAT32:
                return Precision.F32;
            case FLOAT16:
                return Precision.F16;
            default:
                throw new IllegalArgumentException("no CUDA kernel for " + type);
        }
    }

    private static CudaModule module(NDArray q) {
        int ordinal = q.getDevice().getDeviceId();
        return CudaModule.forDevice(ordinal)
                .orElseThrow(() -> new IllegalStateException("CUDA module not loaded on device " + ordinal));
    }

    /** Data address of a contiguous, suitably aligned version of {@code a} (a copy only if needed). */
    private static long address(NDArray a, NaGeometry g, NDManager scratch) {
        PtNDArray t = TensorMemory.contiguous((PtNDArray) a, (PtNDManager) scratch);
        long address = TensorMemory.dataAddress(t);
        if (address % g.alignment() != 0) {
            // A view with an odd storage offset: a fresh allocation is aligned.
            PtNDArray copy = (PtNDArray) t.duplicate();
            copy.attach(scratch);
            address = TensorMemory.dataAddress(copy);
        }
        return address;
    }
}
