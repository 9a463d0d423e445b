package ai.mvar.cuda;

import ai.djl.Device;
import ai.mvar.bench.DeviceMeter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * {@link DeviceMeter} of a CUDA device through the driver API. Process memory is read as the
 * reference harness ({@code scripts/reference_bench.py}) reads it, so Java and Python are measured
 * with the same instrument: {@code nvidia-smi}'s figure for this process when it lists it, else
 * the device's used memory from the driver ({@code cuMemGetInfo}: total - free, which counts
 * every process on the device; benchmarks run one at a time).
 */
public final class CudaDeviceMeter implements DeviceMeter {

    @Override
    public boolean measures(Device device) {
        if (!device.isGpu()) {
            return false;
        }
        try {
            return device.getDeviceId() < CudaDevice.count();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    @Override
    public void synchronize(Device device) {
        CudaDevice.open(device.getDeviceId()).synchronize();
    }

    @Override
    public Reading processMemory(Device device) {
        long smi = nvidiaSmiBytes(ProcessHandle.current().pid());
        if (smi >= 0) {
            return new Reading(smi, "nvidia-smi");
        }
        long[] freeTotal = CudaDevice.open(device.getDeviceId()).memory();
        return new Reading(freeTotal[1] - freeTotal[0], "cuMemGetInfo (whole device)");
    }

    /** This process's used memory in bytes from {@code nvidia-smi}, or -1 when it is absent or does not list the process. */
    static long nvidiaSmiBytes(long pid) {
        try {
            Process p = new ProcessBuilder("nvidia-smi", "--query-compute-apps=pid,used_memory",
                    "--format=csv,noheader,nounits").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return -1;
            }
            return parseSmi(out, pid);
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The MiB figure of {@code pid} in {@code pid, used_memory} lines, in bytes; -1 when absent. */
    static long parseSmi(String csv, long pid) {
        for (String line : csv.split("\n")) {
            String[] parts = line.split(",");
            if (parts.length == 2) {
                try {
                    if (Long.parseLong(parts[0].trim()) == pid) {
                        return Long.parseLong(parts[1].trim()) * 1024 * 1024;
                    }
                } catch (NumberFormatException e) {
                    // a header or a message such as "[N/A]": not a figure
                }
            }
        }
        return -1;
    }
}
