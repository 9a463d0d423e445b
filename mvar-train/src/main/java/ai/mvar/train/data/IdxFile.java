package ai.mvar.train.data;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads the (optionally gzipped) IDX files of MNIST and Fashion-MNIST: a big-endian magic number
 * {@code 0x0000_08_NN} (unsigned bytes, NN dimensions), the dimensions, then the bytes.
 */
final class IdxFile {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    private final int[] dims;
    private final byte[] data;

    private IdxFile(int[] dims, byte[] data) {
        this.dims = dims;
        this.data = data;
    }

    /** Reads {@code file}, checking its magic number and that the data fills the declared shape. */
    static IdxFile read(Path file, int expectedMagic) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
                DataInputStream data = new DataInputStream(in)) {
            int magic = data.readInt();
            if (magic != expectedMagic) {
                throw new IOException(file + ": magic number 0x" + Integer.toHexString(magic) + ", expected 0x"
                        + Integer.toHexString(expectedMagic) + " (is this an IDX "
                        + (expectedMagic == IMAGES_MAGIC ? "image" : "label") + " file?)");
            }
            int[] dims = new int[magic & 0xff];
            long total = 1;
            for (int i = 0; i < dims.length; i++) {
                dims[i] = data.readInt();
                if (dims[i] < 0) {
                    throw new IOException(file + ": negative dimension " + dims[i]);
                }
                total *= dims[i];
            }
            if (total > Integer.MAX_VALUE - 16) {
                throw new IOException(file + ": " + total + " bytes of data is more than one array can hold");
            }
            byte[] bytes = new byte[(int) total];
            try {
                data.readFully(bytes);
            } catch (EOFException e) {
                throw new IOException(file + ": truncated, the header declares " + total + " data bytes", e);
            }
            if (data.read() != -1) {
                throw new IOException(file + ": data continues past the " + total + " bytes the header declares");
            }
            return new IdxFile(dims, bytes);
        } catch (java.util.zip.ZipException e) {
            throw new IOException(file + ": not a valid gzip stream (" + e.getMessage() + ")", e);
        }
    }

    int[] dims() {
        return dims.clone();
    }

    byte[] data() {
        return data;
    }
}
