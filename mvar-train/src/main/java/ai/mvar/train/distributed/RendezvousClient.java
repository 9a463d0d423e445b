package ai.mvar.train.distributed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import jdk.net.ExtendedSocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rank's connection to the job's {@link RendezvousServer}, open for the whole run: it joins,
 * shares small values, reports progress, and hears when the job must stop. An {@code ABORT} from
 * the server, or the server vanishing, calls {@code onAbort} with the reason (on the connection's
 * thread), whatever the rank is doing at the time, including waiting in a collective.
 */
public final class RendezvousClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RendezvousClient.class);
    /** TCP keep-alive: a peer machine that vanishes is noticed after about 10 + 3 x 5 s. */
    private static final int KEEPALIVE_IDLE_S = 10;
    private static final int KEEPALIVE_INTERVAL_S = 5;
    private static final int KEEPALIVE_PROBES = 3;

    private final InetSocketAddress server;
    private final Socket socket;
    private final Writer out;
    private final Consumer<String> onAbort;
    private final CountDownLatch welcome = new CountDownLatch(1);
    private final CountDownLatch bye = new CountDownLatch(1);
    private final Map<String, CompletableFuture<String>> values = new ConcurrentHashMap<>();
    private volatile String aborted;
    private volatile boolean leaving;

    private RendezvousClient(InetSocketAddress server, Socket socket, Consumer<String> onAbort) throws IOException {
        this.server = server;
        this.socket = socket;
        this.out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8);
        this.onAbort = onAbort;
        RendezvousServer.daemon(this::readLoop, "rendezvous client").start();
    }

    /**
     * Connects (retrying while the server is not up yet), joins as {@code rank} of {@code size}
     * and waits until every rank has joined.
     *
     * @param who how failure messages name this rank, e.g. "pid 4242 on node7, gpu3"
     * @param timeout for connecting and for the others to join
     * @param onAbort hears why the job stops; it should end the process
     */
    public static RendezvousClient join(InetSocketAddress server, int rank, int size, String who, Duration timeout,
            Consumer<String> onAbort) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Socket s = connect(server, deadline);
        RendezvousClient c = new RendezvousClient(server, s, onAbort);
        c.send("JOIN " + rank + " " + size + " " + who.replace('\n', ' '));
        try {
            long left = deadline - System.nanoTime();
            if (!c.welcome.await(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                c.close();
                throw new IOException("rendezvous " + server + ": not all " + size + " ranks joined within "
                        + timeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while joining the rendezvous", e);
        }
        if (c.aborted != null) {
            throw new IOException("rendezvous " + server + ": " + c.aborted);
        }
        return c;
    }

    private static Socket connect(InetSocketAddress server, long deadline) throws IOException {
        IOException last = null;
        while (System.nanoTime() < deadline) {
            Socket s = new Socket();
            try {
                InetSocketAddress resolved = server.isUnresolved()
                        ? new InetSocketAddress(server.getHostString(), server.getPort()) : server;
                s.connect(resolved, (int) Math.max(1, Math.min(5000, (deadline - System.nanoTime()) / 1_000_000)));
                keepAlive(s);
                s.setTcpNoDelay(true);
                return s;
            } catch (IOException e) {
                s.close();
                last = e;
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while connecting to the rendezvous", ie);
                }
            }
        }
        throw new IOException("cannot reach the rendezvous at " + server + (last == null ? "" : ": " + last.getMessage()), last);
    }

    /** Keep-alive probes so that a peer machine that disappears without closing is noticed. */
    static void keepAlive(Socket s) throws IOException {
        s.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        if (s.supportedOptions().contains(ExtendedSocketOptions.TCP_KEEPIDLE)) {
            s.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, KEEPALIVE_IDLE_S);
            s.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, KEEPALIVE_INTERVAL_S);
            s.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, KEEPALIVE_PROBES);
        }
    }

    private void readLoop() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                String[] parts = line.split(" ", 2);
                String rest = parts.length > 1 ? parts[1] : "";
                switch (parts[0]) {
                    case "WELCOME" -> welcome.countDown();
                    case "VALUE" -> {
                        String[] kv = rest.split(" ", 2);
                        values.computeIfAbsent(kv[0], k -> new CompletableFuture<>()).complete(kv.length > 1 ? kv[1] : "");
                    }
                    case "ABORT" -> abort(rest);
                    case "BYE" -> bye.countDown();
                    default -> LOG.warn("rendezvous: unknown message from the server: {}", line);
                }
            }
        } catch (IOException e) {
            LOG.debug("rendezvous connection: {}", e.toString());
        }
        if (bye.getCount() > 0 && !leaving) {
            abort("lost the connection to the rendezvous at " + server + ": the process hosting it (rank 0 or the"
                    + " launcher) stopped or its machine became unreachable");
        }
    }

    private void abort(String reason) {
        if (aborted != null) {
            return;
        }
        aborted = reason;
        if (!leaving) {
            onAbort.accept(reason); // ends the process, normally: before any waiting call wakes up
        }
        welcome.countDown();
        bye.countDown();
        values.values().forEach(f -> f.completeExceptionally(new IllegalStateException(reason)));
    }

    /** Shares {@code value} (one line, no spaces needed) under {@code key} with every rank. */
    public void put(String key, String value) throws IOException {
        send("PUT " + key + " " + value);
    }

    /** The value some rank put under {@code key}, waiting for it at most {@code timeout}. */
    public String get(String key, Duration timeout) throws IOException {
        CompletableFuture<String> f = values.computeIfAbsent(key, k -> new CompletableFuture<>());
        send("GET " + key);
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException("rendezvous: no rank shared '" + key + "' within " + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw new IOException("rendezvous: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** Reports that this rank completed {@code step}. */
    public void step(long step) {
        trySend("STEP " + step);
    }

    /** This rank fails: the server stops the others, naming {@code why}. */
    public void fail(String why) {
        leaving = true;
        trySend("FAIL " + (why == null ? "(no message)" : why.replace('\n', ' ')));
    }

    /**
     * Says this rank finished and waits, at most {@code timeout}, until all have: only then is a
     * closed connection no longer a sign of death.
     */
    public void finish(Duration timeout) {
        trySend("DONE");
        try {
            if (!bye.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("rendezvous: not every rank finished within {} s of this one", timeout.toSeconds());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        leaving = true;
    }

    /** The reason the job was told to stop, or null. */
    public String abortReason() {
        return aborted;
    }

    private void send(String line) throws IOException {
        synchronized (out) {
            out.write(line + "\n");
            out.flush();
        }
    }

    private void trySend(String line) {
        try {
            send(line);
        } catch (IOException e) {
            LOG.debug("rendezvous: cannot send '{}': {}", line, e.getMessage());
        }
    }

    @Override
    public void close() {
        leaving = true;
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("rendezvous: close: {}", e.getMessage());
        }
    }
}
