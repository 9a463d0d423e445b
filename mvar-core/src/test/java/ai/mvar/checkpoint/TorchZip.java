package ai.mvar.checkpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Builds {@code torch.save}-style zip checkpoints in tests: stored entries under an archive prefix. */
final class TorchZip {
    /** A contiguous little-endian tensor to store. */
    record Tensor(SafeTensorsDType dtype, long[] shape, byte[] littleEndian) {}

    private TorchZip() {}

    static String storageClass(SafeTensorsDType dtype) {
        return switch (dtype) {
            case F32 -> "FloatStorage";
            case F64 -> "DoubleStorage";
            case F16 -> "HalfStorage";
            case BF16 -> "BFloat16Storage";
            case I64 -> "LongStorage";
            case I32 -> "IntStorage";
            case I16 -> "ShortStorage";
            case I8 -> "CharStorage";
            case U8 -> "ByteStorage";
            case BOOL -> "BoolStorage";
        };
    }

    /** A checkpoint whose top level is an OrderedDict state dict of {@code tensors}. */
    static void writeStateDict(Path file, String prefix, boolean bigEndian, Map<String, Tensor> tensors)
            throws IOException {
        PickleBuilder p = new PickleBuilder().proto(2).global("collections", "OrderedDict").emptyTuple().reduce().mark();
        Map<String, byte[]> storages = new LinkedHashMap<>();
        int key = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            long numel = t.littleEndian().length / t.dtype().bytes();
            long[] stride = new long[t.shape().length];
            long s = 1;
            for (int i = stride.length - 1; i >= 0; i--) {
                stride[i] = s;
                s *= t.shape()[i];
            }
            p.str(e.getKey()).tensor(storageClass(t.dtype()), String.valueOf(key), numel, 0, t.shape(), stride);
            storages.put(String.valueOf(key), bigEndian ? swap(t.littleEndian(), t.dtype().bytes()) : t.littleEndian());
            key++;
        }
        p.op('u').stop();
        write(file, prefix, p.build(), storages, bigEndian ? "big" : "little");
    }

    /** A zip checkpoint from a raw pickle and storages ({@code byteorder} omitted when null). */
    static void write(Path file, String prefix, byte[] pickle, Map<String, byte[]> storages, String byteorder)
            throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            stored(zip, prefix + "/data.pkl", pickle);
            if (byteorder != null) {
                stored(zip, prefix + "/byteorder", byteorder.getBytes());
            }
            for (Map.Entry<String, byte[]> e : storages.entrySet()) {
                stored(zip, prefix + "/data/" + e.getKey(), e.getValue());
            }
            stored(zip, prefix + "/version", "3\n".getBytes());
        }
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(data.length);
        entry.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(data);
        zip.closeEntry();
    }

    static byte[] swap(byte[] data, int elementBytes) {
        byte[] out = data.clone();
        for (int i = 0; i < out.length; i += elementBytes) {
            for (int j = 0; j < elementBytes / 2; j++) {
                byte b = out[i + j];
                out[i + j] = out[i + elementBytes - 1 - j];
                out[i + elementBytes - 1 - j] = b;
            }
        }
        return out;
    }

    static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }
}
