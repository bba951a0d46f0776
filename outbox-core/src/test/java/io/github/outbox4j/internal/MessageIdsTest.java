package io.github.outbox4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.outbox4j.testing.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60) // a hang guard: an engine bug must fail the test, not stall the build
class MessageIdsTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");

    @Test
    void idsFromSeveralThreadsAreUnique() throws Exception {
        MessageIds ids = new MessageIds(Clock.systemUTC());
        Set<String> seen = ConcurrentHashMap.newKeySet();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<String>>> made = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                made.add(threads.submit(() -> {
                    go.await();
                    List<String> mine = new ArrayList<>(25_000);
                    for (int i = 0; i < 25_000; i++) {
                        String id = ids.next();
                        seen.add(id);
                        mine.add(id);
                    }
                    return mine;
                }));
            }
            go.countDown();
            for (Future<List<String>> future : made) {
                assertThat(future.get(60, TimeUnit.SECONDS))
                        .as("one thread's ids, in the order it made them")
                        .isSortedAccordingTo(String::compareTo);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(seen).hasSize(100_000);
        assertThat(seen.stream()
                        .map(id -> UUID.fromString(id).getMostSignificantBits())
                        .distinct())
                .as("the time-ordered half alone (milliseconds and counter) is unique, random bits aside")
                .hasSize(100_000);
    }

    @Test
    void laterIdsSortAfterEarlierOnesAndCarryTheClockMillis() {
        MutableClock clock = new MutableClock(T0);
        MessageIds ids = new MessageIds(clock);
        List<String> made = new ArrayList<>();

        for (int i = 0; i < 1_000; i++) {
            made.add(ids.next());
            made.add(ids.next());
            assertThat(millisOf(made.get(made.size() - 1))).isEqualTo(clock.millis());
            clock.advance(Duration.ofMillis(i % 3)); // sometimes the same millisecond
        }

        assertThat(made).doesNotHaveDuplicates().isSortedAccordingTo(String::compareTo);
        assertThat(made).extracting(id -> UUID.fromString(id)).isSortedAccordingTo(MessageIdsTest::unsigned);
        assertThat(millisOf(made.get(0))).isEqualTo(T0.toEpochMilli());
    }

    @Test
    void systemClockIdsAreOrdered() {
        MessageIds ids = new MessageIds(Clock.systemUTC());
        long before = System.currentTimeMillis();
        List<String> made = new ArrayList<>();

        for (int i = 0; i < 20_000; i++) {
            made.add(ids.next());
        }

        assertThat(made).doesNotHaveDuplicates().isSortedAccordingTo(String::compareTo);
        assertThat(millisOf(made.get(0))).isGreaterThanOrEqualTo(before);
    }

    @Test
    void versionIsSevenAndVariantIsRfc() {
        MessageIds ids = new MessageIds(Clock.systemUTC());

        for (int i = 0; i < 1_000; i++) {
            String id = ids.next();
            UUID uuid = UUID.fromString(id);
            assertThat(uuid.version()).as(id).isEqualTo(7);
            assertThat(uuid.variant()).as(id).isEqualTo(2);
            assertThat(id).hasSize(36).matches("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
        }
    }

    @Test
    void fixedClockStillYieldsUniqueOrderedIds() {
        MessageIds ids = new MessageIds(Clock.fixed(T0, ZoneOffset.UTC));
        List<String> made = new ArrayList<>();

        // more than the 4096 a millisecond's counter holds: the generator has to borrow later milliseconds
        for (int i = 0; i < 20_000; i++) {
            made.add(ids.next());
        }

        assertThat(made).doesNotHaveDuplicates().isSortedAccordingTo(String::compareTo);
        assertThat(made)
                .allSatisfy(id -> assertThat(UUID.fromString(id).version()).isEqualTo(7));
        assertThat(millisOf(made.get(0))).isEqualTo(T0.toEpochMilli());
        assertThat(millisOf(made.get(made.size() - 1))).isBetween(T0.toEpochMilli(), T0.toEpochMilli() + 10);
    }

    @Test
    void clockGoingBackDoesNotBreakTheOrder() {
        MutableClock clock = new MutableClock(T0);
        MessageIds ids = new MessageIds(clock);
        String before = ids.next();

        clock.advance(Duration.ofSeconds(-5)); // an NTP step back
        String after = ids.next();

        assertThat(after).isGreaterThan(before);
        assertThat(millisOf(after)).isEqualTo(T0.toEpochMilli());
    }

    private static long millisOf(String id) {
        return UUID.fromString(id).getMostSignificantBits() >>> 16;
    }

    private static int unsigned(UUID a, UUID b) {
        int high = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
        return high != 0 ? high : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
    }
}
