package ai.mvar.train.distributed;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The part of NCCL's C API that data-parallel training calls, through JNA: {@code libnccl.so.2}
 * as shipped with CUDA builds of PyTorch (wheel {@code nvidia-nccl-cu*}) or installed on its own.
 *
 * <p>Found in this order: {@code $MVAR_NCCL_LIBRARY}; the loader's search path
 * ({@code LD_LIBRARY_PATH}); next to the libtorch DJL loads ({@code $PYTORCH_LIBRARY_PATH}, and
 * {@code nvidia/nccl/lib} of the Python environment that holds it).
 */
public final class Nccl {
    static final String LIBRARY_VARIABLE = "MVAR_NCCL_LIBRARY";
    /** {@code ncclFloat32}, {@code ncclFloat64} of nccl.h. */
    static final int FLOAT32 = 7;
    static final int FLOAT64 = 8;
    /** {@code ncclSum}. */
    static final int SUM = 0;
    private static final int IN_PROGRESS = 7;

    /** The C functions, named as in nccl.h. */
    interface Api extends Library {
        int ncclGetVersion(IntByReference version);

        int ncclGetUniqueId(byte[] id);

        int ncclCommInitRank(PointerByReference comm, int ranks, UniqueId.ByValue id, int rank);

        int ncclAllReduce(Pointer send, Pointer receive, long count, int type, int op, Pointer comm, Pointer stream);

        int ncclCommGetAsyncError(Pointer comm, IntByReference error);

        int ncclCommAbort(Pointer comm);

        int ncclCommDestroy(Pointer comm);

        String ncclGetErrorString(int result);
    }

    /** {@code ncclUniqueId}: 128 opaque bytes, passed by value to {@code ncclCommInitRank}. */
    @Structure.FieldOrder("internal")
    public static class UniqueId extends Structure {
        public byte[] internal = new byte[BYTES];

        /** The by-value form. */
        public static class ByValue extends UniqueId implements Structure.ByValue {}
    }

    static final int BYTES = 128;

    private static Nccl instance;

    private final Api api;
    private final String library;

    private Nccl(Api api, String library) {
        this.api = api;
        this.library = library;
    }

    /** The process's NCCL, loaded on first use. */
    static synchronized Nccl get() {
        if (instance == null) {
            List<String> failures = new ArrayList<>();
            for (String candidate : candidates()) {
                try {
                    instance = new Nccl(Native.load(candidate, Api.class), candidate);
                    break;
                } catch (UnsatisfiedLinkError e) {
                    failures.add(candidate + ": " + e.getMessage().lines().findFirst().orElse(""));
                }
            }
            if (instance == null) {
                throw new IllegalStateException("cannot load NCCL (" + String.join("; ", failures) + "); it ships with"
                        + " CUDA builds of PyTorch (nvidia/nccl/lib/libnccl.so.2): set " + LIBRARY_VARIABLE
                        + " to it, or use --backend mpi");
            }
        }
        return instance;
    }

    private static List<String> candidates() {
        Set<String> out = new LinkedHashSet<>();
        String named = System.getenv(LIBRARY_VARIABLE);
        if (named != null && !named.isBlank()) {
            out.add(named);
            return List.copyOf(out);
        }
        out.add("libnccl.so.2");
        String torch = System.getenv("PYTORCH_LIBRARY_PATH");
        if (torch != null && !torch.isBlank()) {
            Path lib = Path.of(torch);
            // torch/lib -> site-packages/nvidia/nccl/lib in a pip installation
            for (Path p : List.of(lib.resolve("libnccl.so.2"), lib.resolve("../../nvidia/nccl/lib/libnccl.so.2").normalize())) {
                if (Files.isRegularFile(p)) {
                    out.add(p.toString());
                }
            }
        }
        return List.copyOf(out);
    }

    String library() {
        return library;
    }

    /** e.g. "2.27.3". */
    String version() {
        IntByReference v = new IntByReference();
        check(api.ncclGetVersion(v), "ncclGetVersion");
        int code = v.getValue();
        // NCCL_VERSION(X,Y,Z): X*10000 + Y*100 + Z since 2.9 (X*1000 + Y*100 + Z before)
        return code >= 10000 ? code / 10000 + "." + code / 100 % 100 + "." + code % 100
                : code / 1000 + "." + code / 100 % 10 + "." + code % 100;
    }

    /** A fresh unique id, made by rank 0 and handed to the others; hex for the rendezvous. */
    String newUniqueId() {
        byte[] id = new byte[BYTES];
        check(api.ncclGetUniqueId(id), "ncclGetUniqueId");
        return HexFormat.of().formatHex(id);
    }

    /** Joins the communicator of {@code uniqueId} on the calling thread's current CUDA device. */
    Pointer initRank(String uniqueId, int ranks, int rank) {
        byte[] bytes = HexFormat.of().parseHex(uniqueId);
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("an NCCL unique id has " + BYTES + " bytes, got " + bytes.length);
        }
        UniqueId.ByValue id = new UniqueId.ByValue();
        System.arraycopy(bytes, 0, id.internal, 0, BYTES);
        PointerByReference comm = new PointerByReference();
        check(api.ncclCommInitRank(comm, ranks, id, rank), "ncclCommInitRank");
        return comm.getValue();
    }

    /** Enqueues a sum of {@code count} elements at {@code address}, in place, on {@code stream}. */
    void allReduceSum(Pointer comm, Pointer address, long count, int type, Pointer stream) {
        check(api.ncclAllReduce(address, address, count, type, SUM, comm, stream), "ncclAllReduce");
    }

    /** Null while the communicator is healthy, else what went wrong (e.g. a peer that vanished). */
    String asyncError(Pointer comm) {
        IntByReference error = new IntByReference();
        int code = api.ncclCommGetAsyncError(comm, error);
        if (code != 0) {
            return "ncclCommGetAsyncError: " + api.ncclGetErrorString(code);
        }
        return error.getValue() == 0 || error.getValue() == IN_PROGRESS ? null : api.ncclGetErrorString(error.getValue());
    }

    /** Stops the communicator's kernels and frees it; the way out of a collective that will never finish. */
    void abort(Pointer comm) {
        api.ncclCommAbort(comm);
    }

    void destroy(Pointer comm) {
        check(api.ncclCommDestroy(comm), "ncclCommDestroy");
    }

    private void check(int code, String call) {
        if (code != 0) {
            throw new IllegalStateException(call + " failed: " + api.ncclGetErrorString(code) + " (" + library + ")");
        }
    }
}
