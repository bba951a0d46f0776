package io.github.outbox4j.spring.boot;

import io.github.outbox4j.Outbox;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Starts and stops the outbox with the application context. Once every singleton exists, the {@code @Subscribe}
 * endpoints found by {@link SubscribeAnnotationBeanPostProcessor} are {@linkplain #register registered}; {@link
 * #start()} subscribes them, checks that the connection pool leaves the application room beside the engine (a
 * warning, see {@link ConnectionPoolCheck}) and starts the outbox (tables, transport, background threads). {@link
 * #stop()} closes it: consumers stop, work in flight gets up to {@code outbox.shutdown-timeout} to finish, and
 * whatever is unfinished stays in the tables for the next start.
 *
 * <p>Phase {@value #PHASE}: it starts before and stops after the embedded web server's graceful shutdown (phase
 * {@code DEFAULT_PHASE - 1024}), so that requests finishing during the graceful shutdown still get their messages
 * sent, and it stops before the web server itself ({@code DEFAULT_PHASE - 2048}) and long before the beans, the
 * {@code DataSource} among them, are destroyed. An outbox cannot be started again once stopped, so it does not take
 * part in pausing the context. Thread-safe.
 */
final class OutboxLifecycle implements SmartLifecycle {
    /** Between the web server's graceful shutdown and the web server's stop. */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 1536;

    private static final Logger log = LoggerFactory.getLogger(OutboxLifecycle.class);

    private final Outbox outbox;
    private final boolean autoStartup;
    private final ConnectionPoolCheck poolCheck;
    private final List<SubscribeEndpoint> endpoints = new ArrayList<>();
    private final Map<String, SubscribeEndpoint> byTopicAndGroup = new HashMap<>();
    private boolean started;
    private volatile boolean running;

    OutboxLifecycle(Outbox outbox, boolean autoStartup, ConnectionPoolCheck poolCheck) {
        this.outbox = Objects.requireNonNull(outbox, "outbox");
        this.autoStartup = autoStartup;
        this.poolCheck = Objects.requireNonNull(poolCheck, "poolCheck");
    }

    /**
     * Adds endpoints to subscribe at {@link #start()}.
     *
     * @throws IllegalStateException if the outbox has started already (a lazy bean created later), or if a topic
     *     has two methods in one group
     */
    synchronized void register(Collection<SubscribeEndpoint> newEndpoints) {
        for (SubscribeEndpoint endpoint : newEndpoints) {
            if (started) {
                throw new IllegalStateException("@Subscribe method " + endpoint.description() + " was found after the"
                        + " outbox started (a lazy bean?): the transport subscribes every group at start, so the bean"
                        + " must be created at startup; remove @Lazy from it");
            }
            SubscribeEndpoint other =
                    byTopicAndGroup.putIfAbsent(endpoint.topic() + '\u0000' + endpoint.group(), endpoint);
            if (other != null) {
                throw new IllegalStateException("@Subscribe methods " + other.description() + " and "
                        + endpoint.description() + " both handle topic '" + endpoint.topic() + "' in group '"
                        + endpoint.group() + "': a group handles a topic once; give one of them another group");
            }
            endpoints.add(endpoint);
        }
    }

    synchronized List<SubscribeEndpoint> endpoints() {
        return List.copyOf(endpoints);
    }

    @Override
    public synchronized void start() {
        if (started) {
            if (!running) {
                throw new IllegalStateException("The outbox was stopped and cannot start again (its threads and"
                        + " transport are gone): restart the application instead of stopping and starting its context");
            }
            return;
        }
        started = true;
        for (SubscribeEndpoint endpoint : endpoints) {
            outbox.subscribe(
                    endpoint.topic(),
                    endpoint.group(),
                    endpoint.payloadType(),
                    endpoint.concurrency(),
                    endpoint.handler());
            log.debug(
                    "Subscribed {} to topic '{}' in group '{}'",
                    endpoint.description(),
                    endpoint.topic(),
                    endpoint.group());
        }
        poolCheck.check(endpoints);
        outbox.start();
        running = true;
    }

    @Override
    public void stop() {
        try {
            outbox.close();
        } finally {
            running = false;
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /**
     * Not pauseable: an outbox cannot start again once closed, so pausing the context (Spring's test context cache
     * does, between test classes) leaves it running; only closing or stopping the context stops it.
     */
    @Override
    public boolean isPauseable() {
        return false;
    }

    @Override
    public boolean isAutoStartup() {
        return autoStartup;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
