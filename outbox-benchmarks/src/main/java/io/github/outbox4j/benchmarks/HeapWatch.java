package io.github.outbox4j.benchmarks;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The heap while something runs: the highest used heap sampled every 20 ms (what the JVM had to make room for,
 * garbage included), and the highest heap left after a garbage collection (what was really retained), from the
 * collectors' notifications. Both start from a collection, so earlier garbage does not count.
 */
final class HeapWatch implements AutoCloseable {
    private static final long MB = 1024 * 1024;

    private final AtomicLong peakUsed = new AtomicLong();
    private final AtomicLong peakAfterGc = new AtomicLong();
    private final long startUsed;
    private final Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(pool -> pool.getType() == MemoryType.HEAP)
            .map(pool -> pool.getName())
            .collect(Collectors.toSet());
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final NotificationListener listener = this::collected;
    private final Thread sampler;
    private volatile boolean stopped;

    HeapWatch() {
        System.gc();
        startUsed = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        peakUsed.set(startUsed);
        peakAfterGc.set(startUsed);
        for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (collector instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(listener, null, null);
                emitters.add(emitter);
            }
        }
        sampler = new Thread(
                () -> {
                    while (!stopped) {
                        long used = ManagementFactory.getMemoryMXBean()
                                .getHeapMemoryUsage()
                                .getUsed();
                        peakUsed.accumulateAndGet(used, Math::max);
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                    }
                },
                "bench-heap-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    private void collected(Notification notification, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
            return;
        }
        GarbageCollectionNotificationInfo info =
                GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
        long after = 0;
        for (Map.Entry<String, MemoryUsage> pool :
                info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
            if (heapPools.contains(pool.getKey())) {
                after += pool.getValue().getUsed();
            }
        }
        peakAfterGc.accumulateAndGet(after, Math::max);
    }

    double startMb() {
        return (double) startUsed / MB;
    }

    double peakUsedMb() {
        return (double) peakUsed.get() / MB;
    }

    double peakAfterGcMb() {
        return (double) peakAfterGc.get() / MB;
    }

    @Override
    public void close() {
        stopped = true;
        for (NotificationEmitter emitter : emitters) {
            try {
                emitter.removeNotificationListener(listener);
            } catch (ListenerNotFoundException ignored) {
                // not registered: nothing to remove
            }
        }
    }
}
