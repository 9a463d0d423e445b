package ai.mvar.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.mvar.config.Temperature;
import ai.mvar.model.Mode;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Torch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GenerationTaskTest {
    private static final GenerationTask TASK = new GenerationTask(Mode.VAR, Path.of("/p/d16.json"), 32, 3, 1.5, 900, 0.96,
            Temperature.parse("1.2,1.2,1"),
            24, Precision.FP16, "gpu0", true, null, null);

    @Test
    void argumentsRoundTrip() {
        assertEquals(TASK, GenerationTask.parse(TASK.args()));
        GenerationTask files = new GenerationTask(Mode.MVAR, Path.of("p.json"), 1, 1, 2.7, 0, 0, Temperature.NONE, 0,
                Precision.FP32,
                "cpu", false, Path.of("t.safetensors"), Path.of("m.safetensors"));
        assertEquals(files, GenerationTask.parse(files.args()));
        assertEquals(Mode.MVAR, TASK.withMode(Mode.MVAR).mode());
        assertTrue(TASK.random());
    }

    @Test
    void devicesByName() {
        assertEquals(Device.gpu(3), Torch.device("gpu3"));
        assertEquals(Device.cpu(), Torch.device("cpu"));
        assertEquals("gpu3", Torch.name(Device.gpu(3)));
        assertEquals("cpu", Torch.name(Device.cpu()));
        assertThrows(IllegalArgumentException.class, () -> Torch.device("gpu"));
    }

    @Test
    void badArgumentsAreNamed() {
        List<String> args = new ArrayList<>(TASK.args());
        args.add("colour=red");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GenerationTask.parse(args)).getMessage().contains("colour"));
        List<String> missing = new ArrayList<>(TASK.args());
        missing.removeIf(a -> a.startsWith("batch="));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GenerationTask.parse(missing)).getMessage().contains("batch"));
        assertThrows(IllegalArgumentException.class, () -> new GenerationTask(Mode.VAR, Path.of("p"), 1, 1, 1, 1, 1, Temperature.NONE, 0,
                Precision.FP32, "cpu", false, Path.of("t"), null));
    }

    @Test
    void withoutAnAcceleratorModuleAGpuHasNoMeter() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DeviceMeter.forDevice(Device.gpu(0)));
        assertTrue(e.getMessage().contains("mvar-cuda"), e.getMessage());
    }
}
