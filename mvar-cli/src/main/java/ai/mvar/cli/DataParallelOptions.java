package ai.mvar.cli;

import ai.djl.Device;
import ai.mvar.train.distributed.Backend;
import ai.mvar.train.distributed.DataParallel;
import ai.mvar.train.distributed.GradientReducer;
import ai.mvar.train.distributed.LaunchEnvironment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * How {@code train} spreads over processes: one rank per device (docs/distributed.md). Alone,
 * {@code --devices a,b,...} starts one rank per entry on this machine; under a launcher (mpirun,
 * srun, torchrun) it says which device each of this machine's ranks takes.
 */
final class DataParallelOptions {
    /** What sums the gradients. */
    enum BackendChoice {
        AUTO, MPI, NCCL
    }

    @Option(names = "--devices", defaultValue = "cpu", split = ",", paramLabel = "<device>",
            description = {"one process (rank) per entry, e.g. gpu0,gpu1,gpu2,gpu3 or cpu,cpu; under mpirun, srun or"
                    + " torchrun the device of each rank on this machine: entry LOCAL_RANK, or 'gpu' for gpu<LOCAL_RANK>,"
                    + " or one device for all (default ${DEFAULT-VALUE})"})
    List<String> devices;

    @Option(names = "--backend", defaultValue = "AUTO", paramLabel = "<auto|mpi|nccl>",
            description = "what sums the gradients: AUTO (NCCL on GPUs, MPI on the CPU), MPI (GPUs too, through host"
                    + " memory) or NCCL (default ${DEFAULT-VALUE})")
    BackendChoice backend;

    @Option(names = "--bucket-mb", defaultValue = "25", paramLabel = "<MiB>",
            description = "gradient all-reduce bucket size (default ${DEFAULT-VALUE}, as PyTorch DDP)")
    int bucketMb;

    @Option(names = "--collective-timeout", defaultValue = "600", paramLabel = "<seconds>",
            description = "longest wait for an all-reduce before the job is stopped (default ${DEFAULT-VALUE})")
    int collectiveTimeout;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** The entries of --devices, checked: a usage error for an unknown name or a mix of kinds. */
    List<Device> parsed() {
        List<Device> out = new ArrayList<>();
        for (String d : devices) {
            try {
                out.add(isAnyGpu(d) ? Device.gpu(0) : DeviceOption.parse(d));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(mixee.commandLine(), "--devices: " + e.getMessage());
            }
        }
        if (out.stream().map(Device::isGpu).distinct().count() > 1) {
            throw new ParameterException(mixee.commandLine(), "--devices mixes CPU and GPU entries: " + devices);
        }
        if (bucketMb < 1 || bucketBytes() > GradientReducer.MAX_BUCKET_BYTES) {
            throw new ParameterException(mixee.commandLine(), "--bucket-mb must lie in 1.."
                    + (GradientReducer.MAX_BUCKET_BYTES >> 20) + ", got " + bucketMb);
        }
        if (collectiveTimeout < 1) {
            throw new ParameterException(mixee.commandLine(), "--collective-timeout must be positive, got " + collectiveTimeout);
        }
        return out;
    }

    /** The number of ranks this command starts on its own (1: it trains in this process). */
    int localRanks() {
        return devices.size();
    }

    /** The device of the rank {@code env} describes. */
    Device rankDevice(LaunchEnvironment env) {
        parsed();
        if (devices.size() == 1) {
            String only = devices.get(0);
            return DeviceOption.parse(isAnyGpu(only) ? "gpu" + env.localRank() : only);
        }
        if (env.localRank() >= devices.size()) {
            throw new ParameterException(mixee.commandLine(), "--devices lists " + devices.size() + " devices for this"
                    + " machine, but " + env.launcher() + " started local rank " + env.localRank());
        }
        return DeviceOption.parse(devices.get(env.localRank()));
    }

    /** The backend for ranks computing on {@code device}. */
    Backend backend(Device device) {
        return switch (backend) {
            case AUTO -> Backend.forDevice(device);
            case MPI -> Backend.MPI;
            case NCCL -> Backend.NCCL;
        };
    }

    long bucketBytes() {
        return (long) bucketMb << 20;
    }

    DataParallel.Timeouts timeouts() {
        return new DataParallel.Timeouts(DataParallel.Timeouts.standard().rendezvousTimeout(),
                Duration.ofSeconds(collectiveTimeout));
    }

    /** "gpu" without an index: under a launcher, gpu LOCAL_RANK. */
    private static boolean isAnyGpu(String entry) {
        return entry.trim().toLowerCase(Locale.ROOT).equals("gpu");
    }
}
