package ai.mvar.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WatchdogTest {
    @Test
    void aCallPastItsDeadlineIsReportedAndFinishedCallsAreForgotten() throws Exception {
        LinkedBlockingQueue<String> timeouts = new LinkedBlockingQueue<>();
        try (Watchdog fast = new Watchdog(Duration.ofMillis(200), timeouts::add);
                Watchdog slow = new Watchdog(Duration.ofMinutes(10), timeouts::add)) {
            for (int i = 0; i < 10_000; i++) {
                slow.arm("step " + i).close();
            }
            assertEquals(0, slow.pending(), "cancelled deadlines leave the queue");
            try (Watchdog.Armed a = fast.arm("MPI_Allreduce of 7 values")) {
                assertEquals("MPI_Allreduce of 7 values did not complete within 0 s (a rank hung or the network failed)",
                        timeouts.poll(10, TimeUnit.SECONDS));
            }
            fast.arm("a quick call").close();
            assertNull(timeouts.poll(500, TimeUnit.MILLISECONDS));
        }
    }
}
