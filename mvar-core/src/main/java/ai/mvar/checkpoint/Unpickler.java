package ai.mvar.checkpoint;

import java.math.BigInteger;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A pickle machine for protocols 0 to 5 that builds plain data only: dicts, lists, tuples, sets,
 * numbers, strings, bytes, and the few globals of {@link SafeGlobals}. Any other global is
 * represented by a {@link PyGlobal} and "calling" it yields a {@link Placeholder}: no code named by
 * the pickle is ever run, which is what makes loading an untrusted checkpoint safe.
 *
 * <p>Resources are bounded by the input: every length is checked against the bytes left, numbers
 * are limited to 64-bit range plus a little, and the number of operations is capped, so a small
 * hostile pickle cannot exhaust memory.
 */
final class Unpickler {
    /** Far beyond any state dict or trainer checkpoint (a few hundred thousand operations). */
    static final int MAX_OPERATIONS = 2_000_000;
    /** Longest single string or bytes object accepted; checkpoints hold short names and small RNG states. */
    static final int MAX_STRING_BYTES = 64 << 20;
    /** Integers wider than this are not weights metadata and are refused. */
    private static final int MAX_LONG_BYTES = 64;
    private static final int HIGHEST_PROTOCOL = 5;

    private final Path source;
    private final ByteBuffer in;
    private final Function<Object, Object> persistentLoad;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private int operations;

    /**
     * @param data the pickle; read from its position to its limit
     * @param persistentLoad resolves persistent ids (torch storages); throws
     *     IllegalArgumentException for ids it does not accept
     */
    Unpickler(Path source, ByteBuffer data, Function<Object, Object> persistentLoad) {
        this.source = source;
        this.in = data.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.persistentLoad = persistentLoad;
    }

    /** Position just after the STOP opcode, once {@link #load()} has returned. */
    int position() {
        return in.position();
    }

    /** Runs the pickle to its STOP opcode and returns the object it built. */
    Object load() {
        try {
            while (true) {
                if (++operations > MAX_OPERATIONS) {
                    throw fail("more than " + MAX_OPERATIONS + " operations");
                }
                int op = in.get() & 0xff;
                if (op == '.') {
                    return pop();
                }
                step(op);
            }
        } catch (BufferUnderflowException e) {
            throw new CheckpointFormatException(source, "pickle is truncated (no STOP opcode)");
        } catch (IllegalArgumentException | ArithmeticException e) {
            if (e instanceof CheckpointFormatException) {
                throw e;
            }
            throw fail(e.getMessage());
        }
    }

    private void step(int op) {
        switch (op) {
            case 0x80 -> { // PROTO
                int protocol = in.get() & 0xff;
                if (protocol > HIGHEST_PROTOCOL) {
                    throw fail("unsupported pickle protocol " + protocol);
                }
            }
            case 0x95 -> length(8) /* FRAME: framing only groups opcodes; its length is checked and ignored */;
            case '(' -> marks.add(stack.size());
            case '0' -> pop();
            case '1' -> popMark();
            case '2' -> push(peek());
            case 'N' -> push(null);
            case 0x88 -> push(Boolean.TRUE);
            case 0x89 -> push(Boolean.FALSE);
            case 'I' -> push(parseIntLine(line()));
            case 'J' -> push((long) in.getInt());
            case 'K' -> push((long) (in.get() & 0xff));
            case 'M' -> push((long) (in.getShort() & 0xffff));
            case 'L' -> push(parseLongLine(line()));
            case 0x8a -> push(littleEndianLong(in.get() & 0xff));
            case 0x8b -> push(littleEndianLong(length(4)));
            case 'F' -> push(parseFloat(line()));
            case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // big-endian
            case 'S' -> push(PickleStrings.quoted(line()));
            case 'T' -> push(new String(bytes(length(4)), StandardCharsets.ISO_8859_1));
            case 'U' -> push(new String(bytes(in.get() & 0xff), StandardCharsets.ISO_8859_1));
            case 'V' -> push(PickleStrings.rawUnicodeEscape(line()));
            case 'X' -> push(utf8(length(4)));
            case 0x8c -> push(utf8(in.get() & 0xff));
            case 0x8d -> push(utf8(length(8)));
            case 'B' -> push(bytes(length(4)));
            case 'C' -> push(bytes(in.get() & 0xff));
            case 0x8e, 0x96 -> push(bytes(length(8))); // BINBYTES8, BYTEARRAY8
            case ']' -> push(new ArrayList<>());
            case 'l' -> push(new ArrayList<>(popMark()));
            case 'a' -> {
                Object item = pop();
                list(peek()).add(item);
            }
            case 'e' -> {
                List<Object> items = popMark();
                list(peek()).addAll(items);
            }
            case ')' -> push(new PyTuple(List.of()));
            case 't' -> push(new PyTuple(popMark()));
            case 0x85 -> push(new PyTuple(popN(1)));
            case 0x86 -> push(new PyTuple(popN(2)));
            case 0x87 -> push(new PyTuple(popN(3)));
            case '}' -> push(new LinkedHashMap<>());
            case 'd' -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                putAll(map, popMark());
                push(map);
            }
            case 's' -> {
                Object value = pop();
                Object key = pop();
                putAll(dict(peek()), java.util.Arrays.asList(key, value));
            }
            case 'u' -> {
                List<Object> items = popMark();
                putAll(dict(peek()), items);
            }
            case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
            case 0x90 -> { // ADDITEMS
                List<Object> items = popMark();
                Set<Object> set = set(peek());
                for (Object item : items) {
                    PyValues.checkHashable(item);
                    set.add(item);
                }
            }
            case 0x91 -> { // FROZENSET
                List<Object> items = popMark();
                items.forEach(PyValues::checkHashable);
                push(java.util.Collections.unmodifiableSet(new LinkedHashSet<>(items)));
            }
            case 'p' -> memoize(parseMemoIndex(line()));
            case 'q' -> memoize(in.get() & 0xff);
            case 'r' -> memoize(in.getInt() & 0xffffffffL);
            case 0x94 -> memoize(memo.size()); // MEMOIZE
            case 'g' -> push(recall(parseMemoIndex(line())));
            case 'h' -> push(recall(in.get() & 0xff));
            case 'j' -> push(recall(in.getInt() & 0xffffffffL));
            case 'c' -> {
                String module = line();
                String name = line();
                push(SafeGlobals.resolve(module, name));
            }
            case 0x93 -> { // STACK_GLOBAL
                Object name = pop();
                Object module = pop();
                if (!(module instanceof String m) || !(name instanceof String n)) {
                    throw fail("STACK_GLOBAL with non-string names");
                }
                push(SafeGlobals.resolve(m, n));
            }
            case 'R' -> {
                Object args = pop();
                Object callee = pop();
                push(call(callee, tupleItems(args)));
            }
            case 0x81 -> { // NEWOBJ
                Object args = pop();
                Object cls = pop();
                push(instantiate(cls, tupleItems(args)));
            }
            case 0x92 -> { // NEWOBJ_EX: keyword arguments are dropped with the object they would build
                pop();
                Object args = pop();
                Object cls = pop();
                push(instantiate(cls, tupleItems(args)));
            }
            case 'i' -> { // INST
                Object cls = SafeGlobals.resolve(line(), line());
                push(instantiate(cls, popMark()));
            }
            case 'o' -> { // OBJ
                List<Object> items = popMark();
                if (items.isEmpty()) {
                    throw fail("OBJ without a class");
                }
                push(instantiate(items.get(0), items.subList(1, items.size())));
            }
            case 'b' -> build(pop(), peek());
            case 'P' -> push(persistent(line()));
            case 'Q' -> push(persistent(pop()));
            case 0x82, 0x83, 0x84 -> throw fail("extension registry codes (EXT1/2/4) are not supported");
            case 0x97, 0x98 -> throw fail("out-of-band buffers are not supported");
            default -> throw fail(String.format("unknown opcode 0x%02x", op));
        }
    }

    private Object call(Object callee, List<Object> args) {
        if (callee instanceof SafeGlobals.Callable f) {
            return f.call(args);
        }
        if (callee instanceof PyGlobal g) {
            return new Placeholder(g, args);
        }
        if (callee instanceof SafeGlobals.StorageType) {
            throw fail("storage classes are only valid in persistent ids");
        }
        throw fail("REDUCE on a " + PyValues.typeName(callee) + ", which is not callable");
    }

    private Object instantiate(Object cls, List<Object> args) {
        if (cls instanceof PyGlobal g) {
            return new Placeholder(g, args);
        }
        if (cls instanceof SafeGlobals.Callable f && f == SafeGlobals.resolve("collections", "OrderedDict")) {
            return new LinkedHashMap<>();
        }
        throw fail("cannot instantiate a " + PyValues.typeName(cls));
    }

    /**
     * BUILD sets an object's state. Placeholders record it; the state of dicts and tensors (an
     * OrderedDict's {@code _metadata}, a parameter's attributes) does not matter to weights.
     */
    private void build(Object state, Object target) {
        if (target instanceof Placeholder p) {
            p.setState(state);
        } else if (!(target instanceof Map<?, ?>) && !(target instanceof TorchTensor)) {
            throw fail("BUILD on a " + PyValues.typeName(target));
        }
    }

    private Object persistent(Object pid) {
        return persistentLoad.apply(pid);
    }

    private void putAll(Map<Object, Object> map, List<Object> keysAndValues) {
        if (keysAndValues.size() % 2 != 0) {
            throw fail("odd number of items for a dict");
        }
        for (int i = 0; i < keysAndValues.size(); i += 2) {
            Object key = keysAndValues.get(i);
            Object value = keysAndValues.get(i + 1);
            PyValues.checkHashable(key);
            map.put(key, value);
        }
    }

    private List<Object> tupleItems(Object args) {
        if (!(args instanceof PyTuple t)) {
            throw fail("call arguments are a " + PyValues.typeName(args) + ", not a tuple");
        }
        return t.items();
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw fail("APPEND to a " + PyValues.typeName(o));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) {
        if (o instanceof LinkedHashMap<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw fail("SETITEM on a " + PyValues.typeName(o));
    }

    @SuppressWarnings("unchecked")
    private Set<Object> set(Object o) {
        if (o instanceof LinkedHashSet<?> s) {
            return (Set<Object>) s;
        }
        throw fail("ADDITEMS on a " + PyValues.typeName(o));
    }

    private void memoize(long index) {
        memo.put(index, peek());
    }

    private Object recall(long index) {
        if (!memo.containsKey(index)) {
            throw fail("memo entry " + index + " was never stored");
        }
        return memo.get(index);
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object peek() {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) {
            throw fail("stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private Object pop() {
        peek();
        return stack.remove(stack.size() - 1);
    }

    private List<Object> popN(int n) {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() - floor < n) {
            throw fail("stack underflow");
        }
        List<Object> top = new ArrayList<>(stack.subList(stack.size() - n, stack.size()));
        stack.subList(stack.size() - n, stack.size()).clear();
        return top;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw fail("no MARK on the stack");
        }
        int at = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(at, stack.size()));
        stack.subList(at, stack.size()).clear();
        return items;
    }

    /** Reads an unsigned length of {@code width} bytes and checks that that many bytes follow. */
    private int length(int width) {
        long n = width == 4 ? in.getInt() & 0xffffffffL : in.getLong();
        if (n < 0 || n > in.remaining()) {
            throw fail("declared length " + Long.toUnsignedString(n) + " exceeds the " + in.remaining()
                    + " bytes left");
        }
        return (int) n;
    }

    private byte[] bytes(int n) {
        if (n > MAX_STRING_BYTES) {
            throw fail("string or bytes object of " + n + " bytes");
        }
        if (n > in.remaining()) {
            throw fail("declared length " + n + " exceeds the " + in.remaining() + " bytes left");
        }
        byte[] out = new byte[n];
        in.get(out);
        return out;
    }

    private String utf8(int n) {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    /** A newline-terminated argument of the text opcodes. */
    private String line() {
        int start = in.position();
        int end = start;
        while (end < in.limit() && in.get(end) != '\n') {
            end++;
        }
        if (end == in.limit()) {
            throw new BufferUnderflowException();
        }
        byte[] text = new byte[end - start];
        in.get(text);
        in.get();
        return new String(text, StandardCharsets.ISO_8859_1);
    }

    private Object parseIntLine(String text) {
        // Protocol 0 writes booleans as I01 / I00.
        if (text.equals("01")) {
            return Boolean.TRUE;
        }
        if (text.equals("00")) {
            return Boolean.FALSE;
        }
        return parseLongLine(text);
    }

    private Object parseLongLine(String text) {
        String digits = text.endsWith("L") ? text.substring(0, text.length() - 1) : text;
        if (digits.length() > MAX_LONG_BYTES * 3) {
            throw fail("integer of " + digits.length() + " digits");
        }
        try {
            return normalise(new BigInteger(digits));
        } catch (NumberFormatException e) {
            throw fail("malformed integer");
        }
    }

    private Object parseFloat(String text) {
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw fail("malformed float");
        }
    }

    private long parseMemoIndex(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw fail("malformed memo index");
        }
    }

    private Object littleEndianLong(int n) {
        if (n > MAX_LONG_BYTES) {
            throw fail("integer of " + n + " bytes");
        }
        byte[] le = bytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        return normalise(new BigInteger(be));
    }

    private static Object normalise(BigInteger value) {
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    private CheckpointFormatException fail(String problem) {
        return new CheckpointFormatException(source, "pickle: " + problem + " (at byte " + in.position() + ")");
    }
}
