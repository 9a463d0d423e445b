package ai.mvar.train.distributed;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The part of Open MPI's C API that data-parallel training calls, through JNA.
 *
 * <p>Open MPI's handles ({@code MPI_COMM_WORLD}, {@code MPI_FLOAT}, {@code MPI_SUM}, ...) are the
 * addresses of global symbols in libmpi ({@code &ompi_mpi_comm_world}), so they are looked up in
 * the loaded library rather than written down as numbers. MPICH and its derivatives use integer
 * handles, a different ABI: such a libmpi is refused with a message that says so. libmpi is opened
 * with {@code RTLD_GLOBAL} because the plugins it opens itself later ({@code mca_*.so}) resolve
 * symbols of libmpi and libopen-pal through the global namespace.
 *
 * <p>One instance per process ({@link #get()}): MPI can be initialised once only.
 */
final class Mpi {
    private static final int RTLD_LAZY = 0x1;
    private static final int RTLD_GLOBAL = 0x100;
    private static final int MPI_THREAD_MULTIPLE = 3;
    private static final int MPI_COMM_TYPE_SHARED = 0;
    private static final int MPI_MAX_ERROR_STRING = 256;
    /** Open MPI's {@code MPI_IN_PLACE}: {@code ((void *) 1)}. */
    private static final Pointer IN_PLACE = new Pointer(1);
    /** Where a libmpi other than the system's is named. */
    static final String LIBRARY_VARIABLE = "MVAR_MPI_LIBRARY";

    /** The C functions, named as in mpi.h. */
    interface Api extends Library {
        int MPI_Initialized(IntByReference flag);

        int MPI_Init_thread(Pointer argc, Pointer argv, int required, IntByReference provided);

        int MPI_Comm_rank(Pointer comm, IntByReference rank);

        int MPI_Comm_size(Pointer comm, IntByReference size);

        int MPI_Comm_split_type(Pointer comm, int type, int key, Pointer info, PointerByReference out);

        int MPI_Comm_free(PointerByReference comm);

        int MPI_Allreduce(Pointer send, Pointer receive, int count, Pointer type, Pointer op, Pointer comm);

        int MPI_Bcast(Pointer buffer, int count, Pointer type, int root, Pointer comm);

        int MPI_Abort(Pointer comm, int code);

        int MPI_Finalize();

        int MPI_Error_string(int code, byte[] text, IntByReference length);

        int MPI_Get_library_version(byte[] version, IntByReference length);
    }

    /** Element types a reduction accepts. */
    enum Type {
        FLOAT("ompi_mpi_float", 4),
        DOUBLE("ompi_mpi_double", 8),
        BYTE("ompi_mpi_byte", 1);

        final String symbol;
        final int bytes;

        Type(String symbol, int bytes) {
            this.symbol = symbol;
            this.bytes = bytes;
        }
    }

    private static Mpi instance;

    private final Api api;
    private final String library;
    private final Pointer world;
    private final Pointer sum;
    private final Pointer infoNull;
    private final Map<Type, Pointer> types;
    private boolean finalized;

    private Mpi(Api api, NativeLibrary lib) {
        this.api = api;
        this.library = lib.getFile() == null ? lib.getName() : lib.getFile().toString();
        try {
            this.world = lib.getGlobalVariableAddress("ompi_mpi_comm_world");
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException(library + " is not Open MPI (no symbol ompi_mpi_comm_world): only Open MPI's"
                    + " ABI is supported; set " + LIBRARY_VARIABLE + " to an Open MPI libmpi.so", e);
        }
        this.sum = lib.getGlobalVariableAddress("ompi_mpi_op_sum");
        this.infoNull = lib.getGlobalVariableAddress("ompi_mpi_info_null");
        this.types = Map.of(Type.FLOAT, lib.getGlobalVariableAddress(Type.FLOAT.symbol),
                Type.DOUBLE, lib.getGlobalVariableAddress(Type.DOUBLE.symbol),
                Type.BYTE, lib.getGlobalVariableAddress(Type.BYTE.symbol));
    }

    /** The process's MPI, loaded and initialised ({@code MPI_THREAD_MULTIPLE}) on first use. */
    static synchronized Mpi get() {
        if (instance == null) {
            instance = load();
            instance.init();
        }
        return instance;
    }

    /** Whether libmpi can be loaded at all (it is not initialised). */
    static boolean available() {
        try {
            open();
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private static Mpi load() {
        NativeLibrary lib = open();
        Api api = Native.load(lib.getName(), Api.class, options()); // the same handle, opened RTLD_GLOBAL
        return new Mpi(api, lib);
    }

    private static Map<String, Object> options() {
        return Map.of(Library.OPTION_OPEN_FLAGS, RTLD_GLOBAL | RTLD_LAZY);
    }

    private static NativeLibrary open() {
        List<String> candidates = new ArrayList<>();
        String named = System.getenv(LIBRARY_VARIABLE);
        if (named != null && !named.isBlank()) {
            candidates.add(named);
        } else {
            candidates.add("mpi");
            candidates.add("libmpi.so.40");
        }
        List<String> failures = new ArrayList<>();
        for (String name : candidates) {
            try {
                return NativeLibrary.getInstance(name, options());
            } catch (UnsatisfiedLinkError e) {
                failures.add(name + ": " + e.getMessage().lines().findFirst().orElse(""));
            }
        }
        throw new IllegalStateException("cannot load Open MPI's libmpi (" + String.join("; ", failures)
                + "); install Open MPI (Debian: apt-get install openmpi-bin) or set " + LIBRARY_VARIABLE);
    }

    private void init() {
        IntByReference initialized = new IntByReference();
        check(api.MPI_Initialized(initialized), "MPI_Initialized");
        if (initialized.getValue() != 0) {
            return;
        }
        IntByReference provided = new IntByReference();
        check(api.MPI_Init_thread(null, null, MPI_THREAD_MULTIPLE, provided), "MPI_Init_thread");
        if (provided.getValue() < MPI_THREAD_MULTIPLE) {
            // The watchdog calls MPI_Abort from its own thread.
            throw new IllegalStateException(library + " provides thread level " + provided.getValue()
                    + ", MPI_THREAD_MULTIPLE (3) is needed");
        }
    }

    String library() {
        return library;
    }

    /** The library's own description, e.g. "Open MPI v4.1.4, ...". */
    String version() {
        byte[] text = new byte[512];
        IntByReference length = new IntByReference();
        check(api.MPI_Get_library_version(text, length), "MPI_Get_library_version");
        return new String(text, 0, Math.min(length.getValue(), text.length), StandardCharsets.UTF_8).strip()
                .lines().findFirst().orElse("");
    }

    int rank() {
        IntByReference r = new IntByReference();
        check(api.MPI_Comm_rank(world, r), "MPI_Comm_rank");
        return r.getValue();
    }

    int size() {
        IntByReference s = new IntByReference();
        check(api.MPI_Comm_size(world, s), "MPI_Comm_size");
        return s.getValue();
    }

    /** This process's rank among the processes on its node (a shared-memory split of the world). */
    int localRank() {
        PointerByReference node = new PointerByReference();
        check(api.MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, 0, infoNull, node), "MPI_Comm_split_type");
        try {
            IntByReference r = new IntByReference();
            check(api.MPI_Comm_rank(node.getValue(), r), "MPI_Comm_rank");
            return r.getValue();
        } finally {
            api.MPI_Comm_free(node);
        }
    }

    /** Sums {@code count} elements at {@code address} over the world, in place (blocking). */
    void allReduceSum(Pointer address, long count, Type type) {
        check(api.MPI_Allreduce(IN_PLACE, address, checkedCount(count), types.get(type), sum, world), "MPI_Allreduce");
    }

    /** Copies {@code bytes} bytes at {@code address} from {@code root} to every rank (blocking). */
    void broadcast(Pointer address, long bytes, int root) {
        check(api.MPI_Bcast(address, checkedCount(bytes), types.get(Type.BYTE), root, world), "MPI_Bcast");
    }

    /** Ends every process of the job (mpirun or srun does the killing); callable from any thread. */
    void abort(int code) {
        api.MPI_Abort(world, code);
    }

    synchronized void finish() {
        if (!finalized) {
            finalized = true;
            check(api.MPI_Finalize(), "MPI_Finalize");
        }
    }

    private static int checkedCount(long count) {
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("MPI counts are ints: " + count + " elements in one call");
        }
        return (int) count;
    }

    private void check(int code, String call) {
        if (code != 0) {
            byte[] text = new byte[MPI_MAX_ERROR_STRING];
            IntByReference length = new IntByReference();
            String message = api.MPI_Error_string(code, text, length) == 0
                    ? new String(text, 0, Math.min(length.getValue(), text.length), StandardCharsets.UTF_8)
                    : "error " + code;
            throw new IllegalStateException(call + " failed: " + message);
        }
    }
}
