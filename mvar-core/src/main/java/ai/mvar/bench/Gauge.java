package ai.mvar.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.ProcessMemory;

/**
 * Synchronisation and memory of the device a benchmark runs on: the resident set on the CPU (peaks
 * restartable per run), the device memory this process holds on a GPU ({@link DeviceMeter}; the
 * caching allocator keeps what it reserved, so a reading after a run is its peak).
 */
public interface Gauge {
    void sync();

    /** Returns memory freed earlier to the system, so that it cannot hide the next run's needs. */
    void settle();

    long held();

    void resetPeak();

    long peak();

    /** Whether {@link #resetPeak} restarts the peak, so each run's own peak can be read. */
    boolean peaksPerRun();

    String source();

    /**
     * Memory held before a model exists: read once {@code manager}'s device context is made (the
     * engine makes it on the first array), so a GPU's CUDA context and libraries are not counted.
     */
    default long beforeModel(NDManager manager) {
        manager.zeros(new Shape(1)).close();
        sync();
        return held();
    }

    /** The gauge of {@code device}. */
    static Gauge of(Device device) {
        if (!device.isGpu()) {
            return new Gauge() {
                @Override
                public void sync() {}

                @Override
                public void settle() {
                    ProcessMemory.trimNativeHeap();
                }

                @Override
                public long held() {
                    return ProcessMemory.residentBytes();
                }

                @Override
                public boolean peaksPerRun() {
                    return true;
                }

                @Override
                public void resetPeak() {
                    ProcessMemory.resetPeak();
                }

                @Override
                public long peak() {
                    return ProcessMemory.peakResidentBytes();
                }

                @Override
                public String source() {
                    return "resident set (VmRSS/VmHWM)";
                }
            };
        }
        DeviceMeter meter = DeviceMeter.forDevice(device);
        return new Gauge() {
            private String source = "";

            @Override
            public void sync() {
                meter.synchronize(device);
            }

            @Override
            public long held() {
                DeviceMeter.Reading r = meter.processMemory(device);
                source = r.source();
                return r.bytes();
            }

            @Override
            public void settle() {} // the caching allocator keeps what it reserved

            @Override
            public void resetPeak() {} // the caching allocator keeps the most reserved (DeviceMeter)

            @Override
            public boolean peaksPerRun() {
                return false;
            }

            @Override
            public long peak() {
                return held();
            }

            @Override
            public String source() {
                return source;
            }
        };
    }
}
