package ai.mvar.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UnpicklerTest {
    @TempDir
    Path dir;

    private static Object unpickle(byte[] pickle) {
        return new Unpickler(Path.of("test.pkl"), ByteBuffer.wrap(pickle), pid -> {
            throw new IllegalArgumentException("no persistent ids here");
        }).load();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5})
    void plainDataOfEveryProtocol(int protocol) throws IOException {
        byte[] pickle;
        try (InputStream in = getClass().getResourceAsStream("plain-protocol-" + protocol + ".pkl")) {
            pickle = in.readAllBytes();
        }
        Map<?, ?> obj = assertInstanceOf(Map.class, unpickle(pickle));
        assertEquals("mvar", obj.get("name"));
        assertEquals(List.of(0L, 1L, -1L, 255L, 256L, 65535L, 65536L, -(1L << 31), 1L << 31, Long.MAX_VALUE,
                BigInteger.ONE.shiftLeft(70)), obj.get("ints"));
        assertEquals(new PyTuple(List.of(0.5, -1e300)), obj.get("floats"));
        assertEquals(Arrays.asList(true, false, null), obj.get("flags"));
        assertArrayEquals(new byte[] {0, (byte) 0xff, 'a', 'b'}, (byte[]) obj.get("bytes"));
        Map<?, ?> nested = assertInstanceOf(Map.class, obj.get("nested"));
        assertEquals(List.of("a", "b", "c", "d"), List.copyOf(nested.keySet()));
        assertEquals(new PyTuple(List.of(1L, 2L, 3L)), nested.get("c"));
        assertEquals(new PyTuple(List.of()), nested.get("d"));
        assertEquals(Set.of(1L, 2L), obj.get("set"));
        assertEquals(Set.of("x"), obj.get("frozen"));
        assertEquals("h\u00e9\u4e16\uD83D\uDE00", obj.get("unicode"));
        PyTuple shared = (PyTuple) obj.get("shared");
        assertSame(shared.get(0), shared.get(1), "memo keeps shared references shared");
    }

    /** {@code module.name(arg)} via GLOBAL + REDUCE: what a malicious {@code __reduce__} pickles. */
    private static byte[] call(String module, String name, String arg) {
        return new PickleBuilder().proto(2).global(module, name).str(arg).op(0x85).reduce().stop().build();
    }

    private String touch(Path marker) {
        return "touch " + marker;
    }

    @Test
    void osSystemIsNeverRun() throws IOException {
        Path marker = dir.resolve("pwned");
        Object result = unpickle(call("os", "system", touch(marker)));
        Placeholder p = assertInstanceOf(Placeholder.class, result);
        assertEquals(new PyGlobal("os", "system"), p.callee());
        assertEquals(List.of(touch(marker)), p.args());
        // The same payload hidden in a checkpoint, next to a real state dict entry.
        byte[] pickle = new PickleBuilder().proto(2).op('}').mark()
                .str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                .str("evil").global("posix", "system").str(touch(marker)).op(0x85).reduce()
                .op('u').stop().build();
        Path pth = dir.resolve("evil.pth");
        TorchZip.write(pth, "evil", pickle, Map.of("0", TorchZip.floats(1f)), "little");
        try (TorchCheckpointReader reader = TorchCheckpointReader.open(pth)) {
            assertInstanceOf(Placeholder.class, ((Map<?, ?>) reader.root()).get("evil"));
            // A dict mixing tensors and other objects is not a state dict.
            assertThrows(CheckpointFormatException.class, () -> reader.stateDict(null));
        }
        assertFalse(Files.exists(marker), "pickled os.system was executed");
    }

    @Test
    void everyWayOfCallingAGlobalYieldsAPlaceholder() {
        Path marker = dir.resolve("pwned");
        String cmd = touch(marker);
        List<byte[]> pickles = List.of(
                call("builtins", "eval", "__import__('os').system('" + cmd + "')"),
                call("builtins", "exec", "import os; os.system('" + cmd + "')"),
                call("subprocess", "check_output", cmd),
                call("subprocess", "Popen", cmd),
                call("nt", "system", cmd),
                // STACK_GLOBAL (protocol 4)
                new PickleBuilder().proto(4).str("os").str("system").op(0x93).str(cmd).op(0x85).reduce().stop().build(),
                // NEWOBJ and NEWOBJ_EX
                new PickleBuilder().proto(2).global("subprocess", "Popen").str(cmd).op(0x85).op(0x81).stop().build(),
                new PickleBuilder().proto(4).global("subprocess", "Popen").str(cmd).op(0x85).op('}').op(0x92).stop().build(),
                // INST and OBJ (protocol 0/1 instantiate by calling the class)
                new PickleBuilder().mark().str(cmd).op('i').text("os\nsystem\n").stop().build(),
                new PickleBuilder().mark().global("os", "system").str(cmd).op('o').stop().build(),
                // BUILD on the placeholder: __setstate__ is never looked up
                new PickleBuilder().proto(2).global("os", "system").str(cmd).op(0x85).reduce().op('}').op('b').stop().build());
        for (byte[] pickle : pickles) {
            assertInstanceOf(Placeholder.class, unpickle(pickle));
        }
        assertFalse(Files.exists(marker));
    }

    @Test
    void placeholdersCannotBeUsedAsContainersOrCallResults() {
        // Calling what a placeholder call "returned" (a common gadget chain) is refused.
        byte[] chained = new PickleBuilder().proto(2).global("os", "popen").str("id").op(0x85).reduce()
                .emptyTuple().reduce().stop().build();
        assertThrows(CheckpointFormatException.class, () -> unpickle(chained));
        byte[] append = new PickleBuilder().proto(2).global("os", "system").str("x").op('a').stop().build();
        assertThrows(CheckpointFormatException.class, () -> unpickle(append));
    }

    @Test
    void hostileStructureGivesCleanErrors() {
        List<byte[]> hostile = List.of(
                new byte[0],
                new PickleBuilder().proto(2).op('}').build(), // no STOP
                new PickleBuilder().proto(9).stop().build(), // unknown protocol
                new PickleBuilder().op(0x8d).int8(Long.MAX_VALUE / 2).stop().build(), // BINUNICODE8 of 4 EiB
                new PickleBuilder().op('X').int4(-1).stop().build(), // BINUNICODE of 4 GiB
                new PickleBuilder().op(0x8b).int4(1 << 30).stop().build(), // LONG4 of a gigabyte
                new PickleBuilder().op(0x8e).int8(-1).stop().build(), // BINBYTES8, negative length
                new PickleBuilder().op('h').raw(7).stop().build(), // memo entry never stored
                new PickleBuilder().op('0').stop().build(), // pop of an empty stack
                new PickleBuilder().op('e').stop().build(), // APPENDS without MARK
                new PickleBuilder().op(0x82).raw(1).stop().build(), // extension registry
                new PickleBuilder().op(0xff).stop().build(), // unknown opcode
                new PickleBuilder().op('Q').stop().build(), // persistent id from nothing
                new PickleBuilder().str("storage").op(0x85).op('Q').stop().build(), // refused persistent id
                // A list that contains itself, used as a dict key: Python raises TypeError; Java's
                // hashCode would recurse forever.
                new PickleBuilder().op(']').op('q').raw(0).op('h').raw(0).op('a').op('}').op('h').raw(0).op('K').raw(1)
                        .op('s').stop().build(),
                new PickleBuilder().op('}').op(']').op('K').raw(1).op('s').stop().build(), // unhashable key
                new PickleBuilder().op('I').text("12x\n").stop().build(),
                new PickleBuilder().op('L').text("9".repeat(10_000) + "L\n").stop().build());
        for (byte[] pickle : hostile) {
            assertThrows(CheckpointFormatException.class, () -> unpickle(pickle), Arrays.toString(pickle));
        }
    }

    @Test
    void operationCountIsBounded() {
        // Each DUP is one operation; a pickle cannot make the machine run (or allocate) without bound.
        PickleBuilder p = new PickleBuilder().op('N');
        for (int i = 0; i < Unpickler.MAX_OPERATIONS; i++) {
            p.op('0').op('N');
        }
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> unpickle(p.stop().build()));
        assertTrue(e.getMessage().contains("operations"), e.getMessage());
    }

    @Test
    void tensorsOutsideTheirStorageAreRefused() throws IOException {
        byte[] pickle = new PickleBuilder().proto(2).op('}').str("w")
                .tensor("FloatStorage", "0", 4, 2, new long[] {2, 2}, new long[] {2, 1}).op('s').stop().build();
        Path pth = dir.resolve("outside.pth");
        TorchZip.write(pth, "x", pickle, Map.of("0", TorchZip.floats(1, 2, 3, 4)), null);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TorchCheckpointReader.open(pth));
        assertTrue(e.getMessage().contains("reaches element"), e.getMessage());
        byte[] wrongSize = new PickleBuilder().proto(2).op('}').str("w")
                .tensor("FloatStorage", "0", 1L << 40, 0, new long[] {1L << 40}, new long[] {1}).op('s').stop().build();
        TorchZip.write(pth, "x", wrongSize, Map.of("0", TorchZip.floats(1, 2, 3, 4)), null);
        assertThrows(CheckpointFormatException.class, () -> TorchCheckpointReader.open(pth));
    }
}
