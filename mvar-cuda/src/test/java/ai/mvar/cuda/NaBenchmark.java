package ai.mvar.cuda;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE;

import java.util.List;
import java.util.Locale;
import java.util.Random;
import jcuda.driver.CUdevice;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

/**
 * GPU benchmark of the fused forward (run by scripts/gpu/steps/50-kernel-bench.sh on a GPU machine): default
 * B = 64, 16 heads, 16 x 16 map, head dim 64, k = 7, fp16. Prints the forward's time (the
 * tensor-core kernel where it applies) and, on the same problem, the warp-per-query forward's;
 * each as a multiple of the memory floor (q, k, v read once, o written once) at the nominal
 * bandwidth; the floor measured as a device-to-device copy of the same bytes; the backward time;
 * the tensor-core forward with each of the {@link #CANDIDATES} cheapest tiles by {@link NaTile}'s
 * cost model. Without arguments it then does the same (forwards only) for {@link #EXTRA_SHAPES}.
 * Arguments (optional): batch heads side headDim kernelSize f16|f32 iterations.
 */
public final class NaBenchmark {
    /** side, headDim, kernelSize of the shapes timed after the default one (same batch and heads). */
    static final int[][] EXTRA_SHAPES = {{32, 64, 7}, {16, 128, 7}, {8, 64, 7}};
    /** Tiles timed per shape, cheapest by the cost model first. */
    static final int CANDIDATES = 4;

    private NaBenchmark() {}

    public static void main(String[] args) {
        int batch = arg(args, 0, 64);
        int heads = arg(args, 1, 16);
        int side = arg(args, 2, 16);
        int headDim = arg(args, 3, 64);
        int ks = arg(args, 4, 7);
        Precision precision = args.length > 5 && args[5].equals("f32") ? Precision.F32 : Precision.F16;
        int iterations = arg(args, 6, 200);
        CudaModule module = CudaModule.forDevice(0)
                .orElseThrow(() -> new IllegalStateException("no CUDA device: see the warning above"));
        module.makeCurrent();
        System.out.printf(Locale.ROOT, "config: B=%d heads=%d %s (%s PTX)%n", batch, heads, precision,
                module.architecture());
        bench(module, new NaGeometry(batch * heads, side, ks, headDim, precision), iterations, true);
        if (args.length == 0) {
            for (int[] shape : EXTRA_SHAPES) {
                bench(module, new NaGeometry(batch * heads, shape[0], shape[2], shape[1], precision), 50, false);
            }
        }
    }

    private static void bench(CudaModule module, NaGeometry g, int iterations, boolean full) {
        NaLauncher launcher = new NaLauncher(module);
        Precision precision = g.precision();
        float scale = (float) (1 / Math.sqrt(g.headDim()));
        Random rnd = new Random(1);
        System.out.printf(Locale.ROOT, "== map=%dx%d headDim=%d k=%d%n", g.side(), g.side(), g.headDim(), g.kernelSize());
        try (DeviceBuffer q = DeviceBuffer.of(NaKernelGpuTest.input(rnd, g), precision);
                DeviceBuffer k = DeviceBuffer.of(NaKernelGpuTest.input(rnd, g), precision);
                DeviceBuffer v = DeviceBuffer.of(NaKernelGpuTest.input(rnd, g), precision);
                DeviceBuffer dout = full ? DeviceBuffer.of(NaKernelGpuTest.input(rnd, g), precision)
                        : DeviceBuffer.allocate(g.tensorBytes());
                DeviceBuffer out = DeviceBuffer.allocate(g.tensorBytes());
                DeviceBuffer lse = DeviceBuffer.allocate(g.rows() * 4);
                DeviceBuffer delta = DeviceBuffer.allocate(g.rows() * 4);
                DeviceBuffer dq = DeviceBuffer.allocate(g.tensorBytes());
                DeviceBuffer dk = DeviceBuffer.allocate(g.tensorBytes());
                DeviceBuffer dv = DeviceBuffer.allocate(g.tensorBytes());
                DeviceBuffer copy = DeviceBuffer.allocate(4 * g.tensorBytes())) {
            long traffic = 4 * g.tensorBytes();
            double floorMs = traffic / nominalBandwidth() * 1e3;
            double flops = 4.0 * g.rows() * g.effectiveKernel() * g.effectiveKernel() * g.headDim();
            double forward = time(iterations, () ->
                    launcher.forward(g, q.address, k.address, v.address, out.address, 0L, scale));
            double perQuery = time(iterations, () ->
                    launcher.forwardPerQuery(g, q.address, k.address, v.address, out.address, 0L, scale));
            String kernel = g.forwardTile()
                    .map(t -> String.format(Locale.ROOT, "tensor cores, %dx%d query tile, %d warps, %d keys, %d B shared",
                            t.rows(), t.cols(), t.warps(), t.keyCapacity(), t.sharedBytes()))
                    .orElse("one warp per query");
            System.out.printf(Locale.ROOT, "forward            %9.1f us  %7.1f GB/s  %7.2f TFLOP/s  %5.2fx floor  (%s)%n",
                    forward * 1e3, traffic / forward / 1e6, flops / forward / 1e9, forward / floorMs, kernel);
            if (full) {
                double forwardLse = time(iterations, () ->
                        launcher.forward(g, q.address, k.address, v.address, out.address, lse.address, scale));
                System.out.printf(Locale.ROOT, "forward + lse      %9.1f us%n", forwardLse * 1e3);
            }
            System.out.printf(Locale.ROOT, "forward, warp/query%9.1f us  %7.1f GB/s  %7.2f TFLOP/s  %5.2fx floor  (%.2fx the forward)%n",
                    perQuery * 1e3, traffic / perQuery / 1e6, flops / perQuery / 1e9, perQuery / floorMs,
                    perQuery / forward);
            List<NaTile> tiles = NaTile.candidates(g.side(), g.kernelSize(), g.headDim());
            for (NaTile t : tiles.subList(0, Math.min(CANDIDATES, precision == Precision.F16 ? tiles.size() : 0))) {
                double ms = time(iterations, () ->
                        launcher.forwardTiled(g, t, q.address, k.address, v.address, out.address, 0L, scale));
                System.out.printf(Locale.ROOT, "  tile %3dx%-3d     %9.1f us  (cost %d, %d keys, %d B shared, %d warps/SM)%n",
                        t.rows(), t.cols(), ms * 1e3, t.cost(), t.keyCapacity(), t.sharedBytes(), t.residentWarps());
            }
            if (full) {
                double backward = time(iterations, () -> launcher.backward(g, q.address, k.address, v.address,
                        out.address, dout.address, lse.address, dq.address, dk.address, dv.address, delta.address,
                        scale));
                // A copy of 2 tensors reads 2 and writes 2: the same 4 tensors of traffic as the forward.
                long half = 2 * g.tensorBytes();
                double copyMs = time(iterations, () -> JCudaDriver.cuMemcpyDtoD(copy.pointer.withByteOffset(half),
                        copy.pointer, half));
                System.out.printf(Locale.ROOT, "backward (dq,dk,dv)%9.1f us%n", backward * 1e3);
                System.out.printf(Locale.ROOT, "memory floor       %9.1f us at nominal %.0f GB/s%n",
                        floorMs * 1e3, nominalBandwidth() / 1e9);
                System.out.printf(Locale.ROOT, "copy floor         %9.1f us (device-to-device copy of the same %d MB)%n",
                        copyMs * 1e3, traffic >> 20);
            } else {
                System.out.printf(Locale.ROOT, "memory floor       %9.1f us%n", floorMs * 1e3);
            }
        }
    }

    /** Mean milliseconds per call over {@code iterations}, after a warm-up, from CUDA events. */
    static double time(int iterations, Runnable call) {
        for (int i = 0; i < 10; i++) {
            call.run();
        }
        CUevent start = new CUevent();
        CUevent stop = new CUevent();
        JCudaDriver.cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
        JCudaDriver.cuEventCreate(stop, CUevent_flags.CU_EVENT_DEFAULT);
        JCudaDriver.cuEventRecord(start, null);
        for (int i = 0; i < iterations; i++) {
            call.run();
        }
        JCudaDriver.cuEventRecord(stop, null);
        JCudaDriver.cuEventSynchronize(stop);
        float[] ms = new float[1];
        JCudaDriver.cuEventElapsedTime(ms, start, stop);
        JCudaDriver.cuEventDestroy(start);
        JCudaDriver.cuEventDestroy(stop);
        return ms[0] / iterations;
    }

    /** Bytes per second from the memory clock (kHz, double data rate) and bus width (bits). */
    static double nominalBandwidth() {
        CUdevice device = new CUdevice();
        JCudaDriver.cuDeviceGet(device, 0);
        int[] clock = new int[1];
        int[] width = new int[1];
        JCudaDriver.cuDeviceGetAttribute(clock, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, device);
        JCudaDriver.cuDeviceGetAttribute(width, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, device);
        return 2.0 * clock[0] * 1e3 * width[0] / 8;
    }

    private static int arg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }
}
