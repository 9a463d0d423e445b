package ai.mvar.checkpoint;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Writes pickle opcodes by hand, for checkpoints (benign or hostile) built inside tests. */
final class PickleBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleBuilder proto(int protocol) {
        return op(0x80).raw(protocol);
    }

    PickleBuilder op(int opcode) {
        out.write(opcode);
        return this;
    }

    PickleBuilder raw(int b) {
        out.write(b);
        return this;
    }

    PickleBuilder bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    PickleBuilder text(String s) {
        return bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    /** GLOBAL opcode: {@code c module\nname\n}. */
    PickleBuilder global(String module, String name) {
        return op('c').text(module + "\n" + name + "\n");
    }

    PickleBuilder str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op('X').int4(b.length).bytes(b);
    }

    PickleBuilder integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K').raw((int) v);
        }
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            return op('J').int4((int) v);
        }
        return op(0x8a).raw(8).bytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    PickleBuilder int4(int v) {
        return bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    PickleBuilder int8(long v) {
        return bytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    PickleBuilder mark() {
        return op('(');
    }

    PickleBuilder tuple() {
        return op('t');
    }

    PickleBuilder emptyTuple() {
        return op(')');
    }

    PickleBuilder reduce() {
        return op('R');
    }

    PickleBuilder stop() {
        return op('.');
    }

    /** A tuple of longs, such as a size or stride. */
    PickleBuilder longs(long... values) {
        mark();
        for (long v : values) {
            integer(v);
        }
        return tuple();
    }

    /** {@code _rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict())} with a persistent storage id. */
    PickleBuilder tensor(String storageClass, String key, long numel, long offset, long[] shape, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        mark();
        mark().str("storage").global("torch", storageClass).str(key).str("cpu").integer(numel).tuple();
        op('Q');
        integer(offset).longs(shape).longs(stride).op(0x89);
        global("collections", "OrderedDict").emptyTuple().reduce();
        tuple();
        return reduce();
    }

    byte[] build() {
        return out.toByteArray();
    }
}
