package io.github.outbox4j.internal;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;

/**
 * Makes message ids that are unique across instances without coordination and sort by creation time: UUID
 * version 7 (RFC 9562), 48 bits of Unix milliseconds, then a 12-bit counter that keeps ids made in the same
 * millisecond by this generator in order, then 62 random bits that keep instances apart. Thread-safe.
 */
public final class MessageIds {
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private long lastMillis = -1;
    private int counter;

    public MessageIds(Clock clock) {
        this.clock = clock;
    }

    public String next() {
        long millis;
        int sequence;
        synchronized (this) {
            millis = Math.max(clock.millis(), lastMillis);
            if (millis == lastMillis) {
                counter++;
                if (counter > 0xFFF) {
                    // 4096 ids in one millisecond: borrow the next millisecond rather than lose the order
                    millis++;
                    counter = 0;
                }
            } else {
                counter = random.nextInt(0x400); // a random start leaves room to count up within the millisecond
            }
            lastMillis = millis;
            sequence = counter;
        }
        long high = (millis << 16) | 0x7000L | sequence;
        long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(high, low).toString();
    }
}
