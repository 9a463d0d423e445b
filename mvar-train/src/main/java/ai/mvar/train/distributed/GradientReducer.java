package ai.mvar.train.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Sums each optimizer update's gradients over the ranks of a {@link ProcessGroup}, in buckets, as
 * PyTorch DDP's reducer does: parameters are grouped, in reverse model order (the order a backward
 * pass produces their gradients), into flat buffers of at most {@code bucketBytes}; one all-reduce
 * per bucket instead of one per parameter, so hundreds of small tensors cost a few large messages.
 *
 * <p>The buffers are allocated once, on the group's {@link ProcessGroup#bufferDevice buffer
 * device} (the GPU for NCCL, host memory for MPI), and the summed gradients handed to the optimizer
 * are views into them, like DDP's {@code gradient_as_bucket_view}: the only copy is the one into the
 * bucket. DDP starts a bucket's all-reduce from autograd hooks while the backward pass still runs;
 * DJL's gradient collector exposes no such hook, so here every bucket is sent after the backward
 * pass returns (see docs/distributed.md for what that costs).
 *
 * <p>A parameter that the update's backward passes did not reach has no gradient on any rank
 * (which parameters a pass reaches depends on the scales it trains, the same on every rank): its
 * slot is summed as zeros and the optimizer is told it has no gradient, so it skips it exactly as
 * a single process would.
 */
public final class GradientReducer implements AutoCloseable {
    /** DDP's default {@code bucket_cap_mb}: 25 MiB. */
    public static final long DEFAULT_BUCKET_BYTES = 25L << 20;
    /** The largest bucket. */
    public static final long MAX_BUCKET_BYTES = 1L << 30;

    private final ProcessGroup group;
    private final NDManager manager;
    private final List<Bucket> buckets = new ArrayList<>();
    private final Map<String, NDArray> views = new LinkedHashMap<>();
    private final Device device;
    private final Device bufferDevice;

    /** One flat buffer and the parameters it carries. */
    private record Bucket(NDArray flat, List<String> names) {}

    /**
     * @param parameters the trained parameters by name in model order, float32, all on one device
     * @param bucketBytes the largest bucket (a larger parameter gets a bucket of its own)
     */
    public GradientReducer(ProcessGroup group, Map<String, NDArray> parameters, long bucketBytes) {
        if (parameters.isEmpty()) {
            throw new IllegalArgumentException("no parameters to reduce");
        }
        if (bucketBytes < 1 || bucketBytes > MAX_BUCKET_BYTES) {
            // DJL hands out the address of tensors below 2 GiB only; MPI counts are ints
            throw new IllegalArgumentException("a gradient bucket holds 1 byte to 1 GiB, not " + bucketBytes);
        }
        this.group = group;
        NDArray first = parameters.values().iterator().next();
        this.device = first.getDevice();
        this.bufferDevice = group.bufferDevice(device);
        this.manager = first.getManager().newSubManager(bufferDevice);
        if (group.size() == 1) {
            return; // nothing to sum with
        }
        List<String> reversed = new ArrayList<>(parameters.keySet());
        Collections.reverse(reversed);
        List<String> pending = new ArrayList<>();
        long pendingBytes = 0;
        for (String name : reversed) {
            NDArray p = parameters.get(name);
            if (p.getDataType() != DataType.FLOAT32 || !p.getDevice().equals(device)) {
                throw new IllegalArgumentException("parameter " + name + " is " + p.getDataType() + " on " + p.getDevice()
                        + "; all must be float32 on " + device);
            }
            long bytes = p.size() * Float.BYTES;
            if (!pending.isEmpty() && pendingBytes + bytes > bucketBytes) {
                addBucket(pending, parameters);
                pending = new ArrayList<>();
                pendingBytes = 0;
            }
            pending.add(name);
            pendingBytes += bytes;
        }
        addBucket(pending, parameters);
    }

    private void addBucket(List<String> names, Map<String, NDArray> parameters) {
        long total = names.stream().mapToLong(n -> parameters.get(n).size()).sum();
        NDArray flat = manager.zeros(new Shape(total), DataType.FLOAT32);
        long offset = 0;
        for (String name : names) {
            Shape shape = parameters.get(name).getShape();
            NDArray view = flat.get(new NDIndex("{}:{}", offset, offset + shape.size())).reshape(shape);
            views.put(name, view);
            offset += shape.size();
        }
        buckets.add(new Bucket(flat, List.copyOf(names)));
    }

    /** The number of buckets (one all-reduce each per update; none in a job of one rank). */
    public int buckets() {
        return buckets.size();
    }

    /**
     * Sums over all ranks the gradients that {@code local} gives (null for a parameter this
     * update did not reach) and returns the sums by name, on the parameters' device, null where
     * {@code local} had none. The arrays stay valid until the next call; temporaries belong to the
     * caller's scope.
     */
    public Function<String, NDArray> reduce(Function<String, NDArray> local) {
        if (group.size() == 1) {
            return local;
        }
        Map<String, Boolean> present = new LinkedHashMap<>();
        for (Bucket b : buckets) {
            for (String name : b.names()) {
                NDArray g = local.apply(name);
                NDArray view = views.get(name);
                if (g == null) {
                    view.set(new NDIndex("..."), 0f);
                } else {
                    // summed in fp32 on the buffer device, whatever the pass computed in
                    view.set(new NDIndex("..."), g.toType(DataType.FLOAT32, false).toDevice(bufferDevice, false));
                }
                present.put(name, g != null);
            }
            group.allReduceSum(b.flat());
        }
        group.synchronize("the gradient all-reduce (" + buckets.size() + " bucket(s))");
        return name -> {
            if (!present.getOrDefault(name, false)) {
                return null;
            }
            NDArray sum = views.get(name);
            return sum.getDevice().equals(device) ? sum : sum.toDevice(device, false);
        };
    }

    @Override
    public void close() {
        manager.close();
    }
}
