package ai.mvar.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Constant tensors computed in Java (resampling matrices) made once per device and type and kept
 * for the life of the process. A tensor made from Java data is a host-to-device copy, and on a GPU
 * that copy waits for all work queued before it: made per call, each sampling step would drain the
 * device's queue, and the host's launch overhead could no longer hide behind the device's work.
 * The set is bounded by the shapes a model uses. Callers must not close what they get.
 */
public final class DeviceConstants {
    private static final Map<Key, NDArray> CACHE = new ConcurrentHashMap<>();
    private static final Map<Device, NDManager> OWNERS = new ConcurrentHashMap<>();

    private DeviceConstants() {}

    private record Key(Device device, DataType type, String name) {}

    /**
     * The constant {@code name} of the given shape on {@code like}'s device and in its type; {@code
     * values} (fp32, row-major) is asked for only the first time.
     */
    public static NDArray get(NDArray like, String name, Shape shape, Supplier<float[]> values) {
        Key key = new Key(like.getDevice(), like.getDataType(), name);
        NDArray constant = CACHE.get(key);
        return constant != null ? constant : CACHE.computeIfAbsent(key, k -> create(k, shape, values.get()));
    }

    private static NDArray create(Key key, Shape shape, float[] values) {
        NDManager owner = OWNERS.computeIfAbsent(key.device(), d -> Torch.engine().newBaseManager(d));
        NDArray t = Tensors.of(owner, values, shape);
        NDScope.unregister(t); // the caller's scope must not free it
        if (t.getDataType() != key.type()) {
            NDArray cast = t.toType(key.type(), false);
            NDScope.unregister(cast);
            t.close();
            t = cast;
        }
        return t;
    }
}
