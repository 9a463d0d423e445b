package ai.mvar.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The control plane in one JVM: ranks are threads with real sockets. */
class RendezvousTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final LinkedBlockingQueue<String> aborts = new LinkedBlockingQueue<>();
    private final List<RendezvousClient> clients = new ArrayList<>();

    @AfterEach
    void tearDown() {
        clients.forEach(RendezvousClient::close);
        pool.shutdownNow();
    }

    private static RendezvousServer server(int size, Duration joinTimeout, CompletableFuture<String> failures)
            throws IOException {
        return RendezvousServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), size, joinTimeout,
                failures::complete);
    }

    private List<RendezvousClient> joinAll(RendezvousServer server, int size) throws Exception {
        InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
        List<Future<RendezvousClient>> joins = new ArrayList<>();
        for (int r = size - 1; r >= 0; r--) {
            int rank = r;
            joins.add(pool.submit(() -> RendezvousClient.join(at, rank, size, "thread " + rank, TIMEOUT,
                    reason -> aborts.add(rank + ": " + reason))));
        }
        List<RendezvousClient> out = new ArrayList<>();
        for (int i = joins.size() - 1; i >= 0; i--) {
            out.add(joins.get(i).get(30, TimeUnit.SECONDS));
        }
        clients.addAll(out);
        return out;
    }

    @Test
    void ranksShareValuesAndFinishCleanly() throws Exception {
        CompletableFuture<String> failure = new CompletableFuture<>();
        try (RendezvousServer server = server(3, TIMEOUT, failure)) {
            List<RendezvousClient> c = joinAll(server, 3);
            Future<String> early = pool.submit(() -> c.get(2).get("id", TIMEOUT)); // asked before it is put
            c.get(0).put("id", "00ff");
            assertEquals("00ff", early.get(10, TimeUnit.SECONDS));
            assertEquals("00ff", c.get(1).get("id", TIMEOUT));
            c.get(1).step(7);
            List<Future<?>> done = new ArrayList<>();
            for (RendezvousClient each : c) {
                done.add(pool.submit(() -> each.finish(TIMEOUT)));
            }
            for (Future<?> f : done) {
                f.get(10, TimeUnit.SECONDS);
            }
            c.forEach(RendezvousClient::close);
            Thread.sleep(200);
            assertTrue(server.failure().isEmpty(), () -> server.failure().get());
            assertTrue(aborts.isEmpty(), aborts::toString);
        }
    }

    @Test
    void aRankThatVanishesStopsTheOthersNamingItsLastStep() throws Exception {
        CompletableFuture<String> failure = new CompletableFuture<>();
        try (RendezvousServer server = server(3, TIMEOUT, failure)) {
            List<RendezvousClient> c = joinAll(server, 3);
            c.get(1).step(41);
            c.get(1).step(42);
            Thread.sleep(100);
            c.get(1).close(); // the socket closes as a SIGKILL would close it, without DONE
            String reason = failure.get(10, TimeUnit.SECONDS);
            assertEquals("rank 1 of 3 (thread 1) stopped after step 42 without finishing: it was killed, or crashed"
                    + " before it could report why", reason);
            assertEquals(List.of("0: " + reason, "2: " + reason), sorted(take(2)));
            assertEquals(reason, c.get(0).abortReason());
        }
    }

    @Test
    void aFailingRankSaysWhy() throws Exception {
        CompletableFuture<String> failure = new CompletableFuture<>();
        try (RendezvousServer server = server(2, TIMEOUT, failure)) {
            List<RendezvousClient> c = joinAll(server, 2);
            c.get(0).fail("IOException: disk full\nsecond line");
            String reason = failure.get(10, TimeUnit.SECONDS);
            assertEquals("rank 0 of 2 (thread 0) failed before its first step: IOException: disk full second line", reason);
            assertEquals(List.of("1: " + reason), take(1));
            c.get(0).close();
            Thread.sleep(200);
            assertNull(aborts.poll(), "the failing rank is not told about its own failure");
        }
    }

    @Test
    void ranksThatNeverJoinAreNamed() throws Exception {
        CompletableFuture<String> failure = new CompletableFuture<>();
        try (RendezvousServer server = server(3, Duration.ofMillis(500), failure)) {
            InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
            IOException e = assertThrows(IOException.class, () -> RendezvousClient.join(at, 1, 3, "lonely", TIMEOUT,
                    aborts::add));
            assertTrue(e.getMessage().contains("rank(s) [0, 2] of 3 did not join"), e.getMessage());
            assertTrue(failure.get(5, TimeUnit.SECONDS).contains("within 0 s"));
        }
    }

    @Test
    void theServerVanishingStopsTheRanks() throws Exception {
        RendezvousServer server = server(2, TIMEOUT, new CompletableFuture<>());
        joinAll(server, 2);
        server.close(); // its connections close, as when the process that serves it dies
        List<String> got = sorted(take(2));
        assertEquals(2, got.size(), got::toString);
        for (String reason : got) {
            assertTrue(reason.contains(": lost the connection to the rendezvous at "), reason);
        }
    }

    private List<String> take(int n) throws InterruptedException {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String s = aborts.poll(10, TimeUnit.SECONDS);
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    private static List<String> sorted(List<String> l) {
        return l.stream().sorted().toList();
    }
}
