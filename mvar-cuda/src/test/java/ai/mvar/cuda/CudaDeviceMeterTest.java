package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.mvar.bench.DeviceMeter;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The GPU benchmark's instrument: what runs without a GPU (parsing, registration, declining the CPU). */
class CudaDeviceMeterTest {

    @Test
    void readsThisProcessFromNvidiaSmi() {
        String csv = "4242, 2603\n17, 100\n";
        assertEquals(2603L * 1024 * 1024, CudaDeviceMeter.parseSmi(csv, 4242));
        assertEquals(-1, CudaDeviceMeter.parseSmi(csv, 5));
        assertEquals(-1, CudaDeviceMeter.parseSmi("No running processes found\n", 5));
        assertEquals(-1, CudaDeviceMeter.parseSmi("5, [N/A]\n", 5));
    }

    @Test
    void registeredAndNeverMeasuresTheCpu() {
        assertTrue(ServiceLoader.load(DeviceMeter.class).stream().anyMatch(p -> p.type() == CudaDeviceMeter.class));
        assertFalse(new CudaDeviceMeter().measures(Device.cpu()));
    }
}
