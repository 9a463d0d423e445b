package ai.mvar.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DeviceConstantsTest {

    @Test
    void madeOncePerDeviceAndTypeAndOutlivesTheScopeThatAskedFirst() {
        AtomicInteger computed = new AtomicInteger();
        try (NDManager m = Torch.newManager()) {
            NDArray like = m.zeros(new Shape(1));
            NDArray first;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                first = DeviceConstants.get(like, "test 1 2 3", new Shape(3), () -> {
                    computed.incrementAndGet();
                    return new float[] {1, 2, 3};
                });
            }
            assertArrayEquals(new float[] {1, 2, 3}, first.toFloatArray(), "alive after the scope closed");
            assertSame(first, DeviceConstants.get(like, "test 1 2 3", new Shape(3), () -> new float[0]));
            NDArray half = DeviceConstants.get(like.toType(DataType.FLOAT16, false), "test 1 2 3", new Shape(3),
                    () -> new float[] {1, 2, 3});
            assertNotSame(first, half);
            assertEquals(DataType.FLOAT16, half.getDataType());
            assertEquals(1, computed.get());
        }
    }
}
