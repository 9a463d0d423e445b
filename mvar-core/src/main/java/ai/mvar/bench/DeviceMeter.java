package ai.mvar.bench;

import ai.djl.Device;
import java.util.ServiceLoader;

/**
 * What a benchmark reads from an accelerator that the engine does not expose: a device-wide
 * synchronisation (so a timer measures finished work, not queued launches) and the device memory
 * this process holds. Contributed by an accelerator module ({@code mvar-cuda}) through {@link
 * ServiceLoader}.
 *
 * <p>PyTorch's caching allocator keeps freed blocks for reuse and DJL never empties it, so the
 * memory a process holds after a run is the most it reserved during the run: one reading after
 * the cold run is its peak.
 */
public interface DeviceMeter {

    /** Whether this meter reads {@code device}. */
    boolean measures(Device device);

    /** Waits until every operation queued on {@code device} has finished. */
    void synchronize(Device device);

    /** Device memory this process holds on {@code device}, and how it was read. */
    Reading processMemory(Device device);

    /**
     * @param bytes device memory held
     * @param source the instrument (e.g. {@code nvidia-smi} per process, or the driver's used memory)
     */
    record Reading(long bytes, String source) {}

    /**
     * The meter for a GPU.
     *
     * @throws IllegalStateException when no accelerator module on the class path measures it
     */
    static DeviceMeter forDevice(Device device) {
        for (DeviceMeter meter : ServiceLoader.load(DeviceMeter.class)) {
            if (meter.measures(device)) {
                return meter;
            }
        }
        throw new IllegalStateException("no device meter for " + device + ": GPU benchmarks need mvar-cuda on the class path"
                + " and a working NVIDIA driver");
    }
}
