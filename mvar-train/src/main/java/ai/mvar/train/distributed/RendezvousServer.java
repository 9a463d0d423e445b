package ai.mvar.train.distributed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane of a data-parallel job over TCP, in the role of torchrun's rendezvous store
 * and agent: no gradients pass here (they go through MPI or NCCL), only who is in the job, small
 * values the ranks must share (NCCL's unique id), and whether every rank is still alive.
 *
 * <p>Every rank keeps one connection open for the whole run ({@link RendezvousClient}). A rank
 * whose connection closes before it said it finished has died (a SIGKILL closes its sockets at
 * once; a machine that vanishes is caught by TCP keep-alive within about half a minute): the
 * server then tells every other rank to stop, with a message naming the rank, its process and the
 * last step it reported, so no rank waits in a collective for a peer that will never come. A rank
 * that fails with an exception says why first, and that is the message. The first failure is the
 * one reported; {@code onFailure} hears it too (the local launcher stops the job's processes).
 *
 * <p>Protocol, one UTF-8 line per message. Rank to server: {@code JOIN <rank> <size> <who>},
 * {@code PUT <key> <value>}, {@code GET <key>}, {@code STEP <n>}, {@code FAIL <message>},
 * {@code DONE}. Server to rank: {@code WELCOME} (everyone joined), {@code VALUE <key> <value>},
 * {@code ABORT <message>}, {@code BYE} (everyone finished).
 */
public final class RendezvousServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RendezvousServer.class);

    private final ServerSocket socket;
    private final int size;
    private final Consumer<String> onFailure;
    private final Member[] members;
    private final List<Socket> connections = new ArrayList<>();
    private final Map<String, String> store = new HashMap<>();
    private final Map<String, List<Member>> waiting = new HashMap<>();
    private final ScheduledExecutorService joinTimer;
    private String failure;
    private int joined;
    private int finished;
    private volatile boolean closed;

    /** A rank's connection and what it said about itself. */
    private static final class Member {
        final int rank;
        final String who;
        final Writer out;
        long step;
        boolean done;
        boolean failed;

        Member(int rank, String who, Writer out) {
            this.rank = rank;
            this.who = who;
            this.out = out;
        }
    }

    private RendezvousServer(ServerSocket socket, int size, Duration joinTimeout, Consumer<String> onFailure) {
        this.socket = socket;
        this.size = size;
        this.onFailure = onFailure;
        this.members = new Member[size];
        this.joinTimer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "rendezvous join timer"));
        joinTimer.schedule(() -> joinTimedOut(joinTimeout), joinTimeout.toMillis(), TimeUnit.MILLISECONDS);
        daemon(this::acceptLoop, "rendezvous server").start();
    }

    /**
     * Serves a job of {@code size} ranks on {@code bind} (port 0: any free port).
     *
     * @param joinTimeout ranks missing after this long make the job fail, naming them
     * @param onFailure hears the first failure's message (on a server thread)
     */
    public static RendezvousServer start(InetSocketAddress bind, int size, Duration joinTimeout,
            Consumer<String> onFailure) throws IOException {
        if (size < 1) {
            throw new IllegalArgumentException("a job has at least one rank, got " + size);
        }
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        try {
            s.bind(bind, size * 2);
        } catch (IOException e) {
            s.close();
            throw new IOException("rendezvous: cannot listen on " + bind + ": " + e.getMessage(), e);
        }
        return new RendezvousServer(s, size, joinTimeout, onFailure);
    }

    /** The port it listens on. */
    public int port() {
        return socket.getLocalPort();
    }

    /** The first failure reported, if any. */
    public synchronized Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = socket.accept();
                RendezvousClient.keepAlive(s);
                synchronized (this) {
                    connections.add(s);
                }
                daemon(() -> serve(s), "rendezvous connection " + s.getRemoteSocketAddress()).start();
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("rendezvous: accept failed: {}", e.getMessage());
                }
            }
        }
    }

    private void serve(Socket s) {
        Member member = null;
        try (s; BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
            Writer out = new OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8);
            for (String line; (line = in.readLine()) != null; ) {
                String[] parts = line.split(" ", 2);
                String rest = parts.length > 1 ? parts[1] : "";
                if (member == null) {
                    member = join(parts[0], rest, out);
                    if (member == null) {
                        return;
                    }
                    continue;
                }
                switch (parts[0]) {
                    case "PUT" -> put(rest);
                    case "GET" -> get(member, rest);
                    case "STEP" -> step(member, Long.parseLong(rest));
                    case "FAIL" -> failed(member, rest);
                    case "DONE" -> done(member);
                    default -> LOG.warn("rendezvous: rank {} sent an unknown message: {}", member.rank, line);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("rendezvous: connection ended: {}", e.toString());
        }
        if (member != null) {
            disconnected(member);
        }
    }

    private synchronized Member join(String verb, String rest, Writer out) {
        String[] f = rest.split(" ", 3);
        String problem = null;
        int rank = -1;
        if (!verb.equals("JOIN") || f.length < 3) {
            problem = "expected JOIN <rank> <size> <who>";
        } else {
            rank = Integer.parseInt(f[0]);
            int theirSize = Integer.parseInt(f[1]);
            if (theirSize != size) {
                problem = "rank " + rank + " believes the job has " + theirSize + " ranks, the rendezvous serves " + size;
            } else if (rank < 0 || rank >= size) {
                problem = "rank " + rank + " is outside 0.." + (size - 1);
            } else if (members[rank] != null) {
                problem = "rank " + rank + " joined twice (" + members[rank].who + ", then " + f[2] + ")";
            } else if (failure != null) {
                problem = failure;
            }
        }
        if (problem != null) {
            send(out, "ABORT " + problem);
            if (failure == null) {
                fail(problem);
            }
            return null;
        }
        Member m = new Member(rank, f[2], out);
        members[rank] = m;
        joined++;
        LOG.info("rendezvous: rank {} of {} joined ({})", rank, size, m.who);
        if (joined == size) {
            joinTimer.shutdownNow();
            for (Member each : members) {
                send(each.out, "WELCOME");
            }
        }
        return m;
    }

    private synchronized void put(String rest) {
        String[] kv = rest.split(" ", 2);
        store.put(kv[0], kv.length > 1 ? kv[1] : "");
        for (Member m : waiting.getOrDefault(kv[0], List.of())) {
            send(m.out, "VALUE " + kv[0] + " " + store.get(kv[0]));
        }
        waiting.remove(kv[0]);
    }

    private synchronized void get(Member m, String key) {
        String value = store.get(key);
        if (value != null) {
            send(m.out, "VALUE " + key + " " + value);
        } else {
            waiting.computeIfAbsent(key, k -> new ArrayList<>()).add(m);
        }
    }

    private synchronized void step(Member m, long step) {
        m.step = step;
    }

    private synchronized void failed(Member m, String why) {
        m.failed = true;
        if (failure == null) {
            fail(describe(m) + " failed" + atStep(m) + ": " + why);
        }
    }

    private synchronized void done(Member m) {
        m.done = true;
        finished++;
        if (finished == size) {
            for (Member each : members) {
                send(each.out, "BYE");
            }
        }
    }

    private synchronized void disconnected(Member m) {
        if (!m.done && !m.failed && failure == null && !closed) {
            fail(describe(m) + " stopped" + atStep(m) + " without finishing: it was killed, or crashed before it could"
                    + " report why");
        }
    }

    private synchronized void joinTimedOut(Duration timeout) {
        if (joined < size && failure == null) {
            TreeSet<Integer> missing = new TreeSet<>();
            for (int r = 0; r < size; r++) {
                if (members[r] == null) {
                    missing.add(r);
                }
            }
            fail("rank(s) " + missing + " of " + size + " did not join the rendezvous on port " + port() + " within "
                    + timeout.toSeconds() + " s");
        }
    }

    /** Records the first failure and tells every rank still connected to stop, rank 0 last. */
    private void fail(String message) {
        failure = message.replace('\n', ' ');
        LOG.info("rendezvous: {}", failure);
        for (int r = size - 1; r >= 0; r--) {
            Member m = members[r];
            if (m != null && !m.failed) {
                send(m.out, "ABORT " + failure);
            }
        }
        String reported = failure;
        daemon(() -> onFailure.accept(reported), "rendezvous failure report").start();
    }

    private String describe(Member m) {
        return "rank " + m.rank + " of " + size + " (" + m.who + ")";
    }

    private static String atStep(Member m) {
        return m.step > 0 ? " after step " + m.step : " before its first step";
    }

    private static void send(Writer out, String line) {
        try {
            synchronized (out) {
                out.write(line + "\n");
                out.flush();
            }
        } catch (IOException e) {
            LOG.debug("rendezvous: cannot send '{}': {}", line, e.getMessage());
        }
    }

    static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Stops serving and closes every connection, as the end of the process would: a rank that has
     * not heard {@code BYE} takes it as the rendezvous gone.
     */
    @Override
    public void close() {
        closed = true;
        joinTimer.shutdownNow();
        List<Socket> open;
        synchronized (this) {
            open = List.copyOf(connections);
        }
        for (java.io.Closeable c : concat(socket, open)) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.debug("rendezvous: close: {}", e.getMessage());
            }
        }
    }

    private static List<java.io.Closeable> concat(ServerSocket s, List<Socket> sockets) {
        List<java.io.Closeable> all = new ArrayList<>();
        all.add(s);
        all.addAll(sockets);
        return all;
    }
}
