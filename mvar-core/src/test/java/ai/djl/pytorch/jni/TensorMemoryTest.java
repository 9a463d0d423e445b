package ai.djl.pytorch.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.mvar.nn.Torch;
import com.sun.jna.Pointer;
import org.junit.jupiter.api.Test;

/** The bridge on CPU tensors, where the address can be read back: no copy, right element. */
class TensorMemoryTest {

    @Test
    void addressIsTheTensorsOwnMemory() {
        try (NDManager manager = Torch.newManager()) {
            PtNDArray a = (PtNDArray) manager.arange(0f, 12f).reshape(3, 4);
            long address = TensorMemory.dataAddress(a);
            assertEquals(5f, new Pointer(address).getFloat(5 * Float.BYTES));
            // Writing through the address changes the tensor: the same memory, not a copy.
            new Pointer(address).setFloat(0, 42f);
            assertEquals(42f, a.getFloat(0, 0));
        }
    }

    @Test
    void nonContiguousViewsAreCopiedOnlyWhenNeeded() {
        try (NDManager manager = Torch.newManager(); NDManager scratch = manager.newSubManager()) {
            PtNDArray a = (PtNDArray) manager.arange(0f, 12f).reshape(3, 4);
            assertTrue(TensorMemory.isContiguous(a));
            assertEquals(a, TensorMemory.contiguous(a, (PtNDManager) scratch));
            PtNDArray t = a.transpose();
            assertFalse(TensorMemory.isContiguous(t));
            assertThrows(IllegalArgumentException.class, () -> TensorMemory.dataAddress(t));
            PtNDArray c = TensorMemory.contiguous(t, (PtNDManager) scratch);
            assertNotEquals(TensorMemory.dataAddress(a), TensorMemory.dataAddress(c));
            assertEquals(4f, new Pointer(TensorMemory.dataAddress(c)).getFloat(Float.BYTES)); // c[0][1] = a[1][0]
        }
    }

    @Test
    void emptyHasTheRequestedShapeAndType() {
        try (NDManager manager = Torch.newManager()) {
            PtNDArray e = TensorMemory.empty((PtNDManager) manager, new Shape(2, 3, 5, 32), DataType.FLOAT16, Device.cpu());
            assertEquals(new Shape(2, 3, 5, 32), e.getShape());
            assertEquals(DataType.FLOAT16, e.getDataType());
            assertTrue(TensorMemory.isContiguous(e));
        }
    }
}
