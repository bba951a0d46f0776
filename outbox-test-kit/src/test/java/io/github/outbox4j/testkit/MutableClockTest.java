package io.github.outbox4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MutableClockTest {

    @Test
    void standsStillUntilMoved() {
        MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");

        assertThat(clock.instant()).isEqualTo(clock.instant()).isEqualTo(Instant.parse("2030-01-01T00:00:00Z"));
        assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);

        assertThat(clock.advance(Duration.ofMinutes(4))).isEqualTo(Instant.parse("2030-01-01T00:04:00Z"));
        assertThat(clock.millis())
                .isEqualTo(Instant.parse("2030-01-01T00:04:00Z").toEpochMilli());

        clock.set(Instant.parse("2029-12-31T23:59:59.999Z"));
        assertThat(clock.instant()).isEqualTo(Instant.parse("2029-12-31T23:59:59.999Z"));
    }

    @Test
    void aClockInAnotherZoneSharesTheTime() {
        MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
        MutableClock shanghai = clock.withZone(ZoneId.of("Asia/Shanghai"));

        clock.advance(Duration.ofSeconds(1));

        assertThat(shanghai.instant()).isEqualTo(Instant.parse("2030-01-01T00:00:01Z"));
        assertThat(shanghai.getZone()).isEqualTo(ZoneId.of("Asia/Shanghai"));
    }

    @Test
    void concurrentAdvancesAreNotLost() throws InterruptedException {
        MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
        int threads = 4;
        int advancesEach = 10_000;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int t = 0; t < threads; t++) {
                pool.execute(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    for (int i = 0; i < advancesEach; i++) {
                        clock.advance(Duration.ofMillis(1));
                    }
                });
            }
            start.countDown();
        } finally {
            pool.shutdown();
        }
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

        assertThat(clock.instant())
                .isEqualTo(Instant.parse("2030-01-01T00:00:00Z").plusMillis((long) threads * advancesEach));
    }
}
