package io.github.outbox4j.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import io.github.outbox4j.spi.InboundListener;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumers of one group: {@link Subscription#concurrency()} channels on the consumer connection, each
 * with one consumer on the group's queue, {@code basicQos(prefetch)} and manual acks.
 *
 * <p><b>Batches.</b> The client calls a consumer on its dispatch thread, one delivery after the other per
 * channel, and sends it no further delivery while a call blocks; so the consumer only converts a delivery and
 * buffers it, and a drain task on the {@code executor} (at most one per channel at a time, so that a channel's
 * deliveries stay in order) hands everything buffered, up to {@code prefetch} deliveries, to the
 * {@link InboundListener} in one call: one inbox transaction per batch instead of one per delivery. Once the
 * listener returned, the batch is acked with one {@code basicAck(last tag, multiple)}; if it throws, the same
 * batch is handed over again after each redelivery backoff, until the inbox takes it, and this channel hands
 * nothing else to the listener meanwhile (so a failing inbox, e.g. a database outage, is retried at that pace,
 * not in a hot loop, and the broker never counts a failed delivery against a queue's delivery limit). When the
 * transport closes first, the batch is nacked with requeue. Buffered deliveries are settled strictly in order, so
 * a multiple ack or nack only ever covers the batch's own deliveries. A delivery that cannot be converted is never
 * part of a batch: the batch before it is settled first, then it alone is nacked with requeue after the backoff.
 * Deliveries still buffered when their channel dies are handed over all the same: their ack fails, or is ignored
 * by a recovered channel as stale, the broker redelivers them and the inbox recognizes them.
 *
 * <p>A lost connection is the client's automatic recovery's business: it reopens the channels, declares the
 * topology again and restarts the consumers. What it does not recover, a channel closed alone by the broker or
 * a consumer cancelled by it (its queue was deleted), is restarted here on a new channel after the backoff.
 */
final class GroupConsumer {
    private static final Logger log = LoggerFactory.getLogger(GroupConsumer.class);

    private final Subscription subscription;
    private final String queue;
    private final Map<String, Object> queueArguments;
    private final String exchange;
    private final int prefetch;
    private final Duration backoff;
    private final InboundListener listener;
    private final Connection connection;
    private final Executor executor;
    private final ScheduledExecutorService timer;
    private final CountDownLatch closing;
    private final AtomicReferenceArray<Worker> workers;
    /** Deliveries buffered or being handed to the listener, on every channel, replaced ones included. */
    private final AtomicInteger pending = new AtomicInteger();

    GroupConsumer(
            Subscription subscription,
            String queue,
            Map<String, Object> queueArguments,
            String exchange,
            int prefetch,
            Duration backoff,
            InboundListener listener,
            Connection connection,
            Executor executor,
            ScheduledExecutorService timer,
            CountDownLatch closing) {
        this.subscription = subscription;
        this.queue = queue;
        this.queueArguments = queueArguments;
        this.exchange = exchange;
        this.prefetch = prefetch;
        this.backoff = backoff;
        this.listener = listener;
        this.connection = connection;
        this.executor = executor;
        this.timer = timer;
        this.closing = closing;
        this.workers = new AtomicReferenceArray<>(subscription.concurrency());
    }

    /** Declares the queue and its bindings and starts every consumer; on failure stops those started. */
    void start() throws IOException {
        try {
            for (int i = 0; i < workers.length(); i++) {
                workers.set(i, open(i));
            }
        } catch (IOException | RuntimeException e) {
            cancel();
            for (int i = 0; i < workers.length(); i++) {
                Worker worker = workers.get(i);
                if (worker != null) {
                    worker.abort();
                }
            }
            throw e;
        }
        log.info(
                "Consuming group '{}' from queue '{}' bound to {} on exchange '{}' with {} consumer(s), prefetch {}",
                subscription.group(),
                queue,
                subscription.topics(),
                exchange,
                workers.length(),
                prefetch);
    }

    /** Stops new deliveries; those buffered or being handled finish. */
    void cancel() {
        for (int i = 0; i < workers.length(); i++) {
            Worker worker = workers.get(i);
            if (worker != null) {
                worker.cancel();
            }
        }
    }

    /**
     * Waits until no delivery is buffered or being handled, or until {@code deadlineNanos}; returns whether
     * idle.
     */
    boolean awaitIdle(long deadlineNanos) {
        while (pending.get() > 0 && System.nanoTime() - deadlineNanos < 0) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        return pending.get() == 0;
    }

    private Worker open(int index) throws IOException {
        Channel channel = connection.createChannel();
        if (channel == null) {
            throw new IOException("the connection has no channel left (channel_max reached)");
        }
        try {
            // every consumer channel declares: the client's topology recovery replays declarations on the
            // channel that made them, so they must be made on channels that live
            Topology.declareQueue(channel, exchange, queue, queueArguments, subscription.topics());
            channel.basicQos(prefetch);
            Worker worker = new Worker(channel, index);
            channel.basicConsume(queue, false, "outbox-" + subscription.group() + "-" + index, worker);
            return worker;
        } catch (IOException | RuntimeException e) {
            abortQuietly(channel);
            throw e;
        }
    }

    private void restartLater(int index, Worker dead) {
        if (closing.getCount() == 0) {
            return;
        }
        try {
            timer.schedule(() -> restart(index, dead), Math.max(backoff.toMillis(), 100), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug(
                    "Not restarting consumer {} of group '{}': the transport is closing", index, subscription.group());
        }
    }

    private void restart(int index, Worker dead) {
        if (closing.getCount() == 0 || workers.get(index) != dead) {
            return;
        }
        if (!connection.isOpen()) {
            // the connection's recovery brings the channel back (topology recovery replays declarations on
            // the channels that made them, so it must not be aborted before); try again once it is up
            restartLater(index, dead);
            return;
        }
        dead.abort(); // unregisters the dead channel and its consumer from the client's recovery
        try {
            Worker fresh = open(index);
            if (!workers.compareAndSet(index, dead, fresh) || closing.getCount() == 0) {
                fresh.cancel();
                fresh.abort();
                return;
            }
            log.info("Consumer {} of group '{}' restarted on queue '{}'", index, subscription.group(), queue);
        } catch (IOException | RuntimeException e) {
            log.warn(
                    "Could not restart consumer {} of group '{}' on queue '{}', trying again: {}",
                    index,
                    subscription.group(),
                    queue,
                    e.toString());
            restartLater(index, dead);
        }
    }

    private static void abortQuietly(Channel channel) {
        try {
            channel.abort();
        } catch (IOException | RuntimeException e) {
            log.debug("Aborting channel {} failed", channel.getChannelNumber(), e);
        }
    }

    /**
     * A delivery as buffered: converted, or with the reason it could not be. {@code envelope} is kept for the
     * log.
     */
    private record Delivery(long tag, Envelope envelope, TransportMessage message, Throwable unreadable) {}

    /**
     * One consumer on its own channel. The client calls it from one thread at a time; its drain task runs on
     * the executor, never twice at once.
     */
    private final class Worker extends DefaultConsumer {
        private final int index;
        private final Queue<Delivery> buffer = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean draining = new AtomicBoolean();
        // whether the current batch's ack or nack was sent; only the drain task uses it
        private boolean batchSettled;
        private volatile boolean cancelled;

        Worker(Channel channel, int index) {
            super(channel);
            this.index = index;
        }

        @Override
        public void handleDelivery(
                String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
            Delivery delivery;
            try {
                TransportMessage message =
                        InboundMessages.toTransportMessage(queue, envelope.getRoutingKey(), properties, body);
                delivery = new Delivery(envelope.getDeliveryTag(), envelope, message, null);
            } catch (RuntimeException | Error e) {
                // Errors too: an exception escaping to the client would close the channel for good
                delivery = new Delivery(envelope.getDeliveryTag(), envelope, null, e);
            }
            pending.incrementAndGet();
            buffer.add(delivery);
            scheduleDrain();
        }

        private void scheduleDrain() {
            if (!draining.compareAndSet(false, true)) {
                return; // the running drain task takes it, or schedules itself again when it ends
            }
            try {
                executor.execute(this::drain);
            } catch (RejectedExecutionException e) {
                // the transport is closing and its threads are gone: the broker requeues what was not acked
                draining.set(false);
                log.debug(
                        "Consumer {} of group '{}' cannot hand {} buffered delivery(ies) over: the transport is closed",
                        index,
                        subscription.group(),
                        buffer.size());
            }
        }

        /** Settles every buffered delivery, in order, then ends; the only place deliveries leave the buffer. */
        private void drain() {
            try {
                while (!buffer.isEmpty()) {
                    List<Delivery> batch = nextBatch();
                    batchSettled = false;
                    try {
                        if (batch.get(0).unreadable() != null) {
                            refuseUnreadable(batch.get(0));
                        } else {
                            handle(batch);
                        }
                    } catch (Throwable e) {
                        if (!batchSettled) {
                            // a later multiple ack must not cover deliveries the inbox may not have taken
                            requeueAfterUnexpected(batch, e);
                        }
                        if (e instanceof VirtualMachineError) {
                            throw e;
                        }
                    } finally {
                        pending.addAndGet(-batch.size());
                    }
                }
            } finally {
                draining.set(false);
                // a delivery buffered after the last look at the buffer, while this task still ran
                if (!buffer.isEmpty()) {
                    scheduleDrain();
                }
            }
        }

        private void requeueAfterUnexpected(List<Delivery> batch, Throwable cause) {
            try {
                log.error(
                        "Consumer {} of group '{}' failed handing over {} delivery(ies); requeueing them",
                        index,
                        subscription.group(),
                        batch.size(),
                        cause);
                settle(batch.get(batch.size() - 1).tag(), batch.get(0).unreadable() == null, false, batch.size());
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
            }
        }

        /**
         * The deliveries at the head of the buffer, up to {@code prefetch}: either one delivery that could not
         * be converted, or converted ones up to (excluding) the next such delivery. Never empty.
         */
        private List<Delivery> nextBatch() {
            List<Delivery> batch = new ArrayList<>(Math.min(prefetch, 16));
            Delivery head = buffer.poll();
            batch.add(head);
            if (head.unreadable() != null) {
                return batch;
            }
            Delivery next;
            while (batch.size() < prefetch && (next = buffer.peek()) != null && next.unreadable() == null) {
                batch.add(buffer.poll());
            }
            return batch;
        }

        /**
         * Hands {@code batch} to the listener and acks it once the inbox took it. While the inbox refuses it (its
         * database is down, say), the batch is kept and handed over again after each backoff rather than requeued:
         * on a queue with a delivery limit, each requeue would count as a failed delivery, and the broker drops
         * or dead-letters a message past the limit (quorum queues have one, 20, by default since RabbitMQ 4.0).
         * Meanwhile this channel hands nothing else over. Trying ends when the transport closes (the batch is
         * then requeued) or the channel is gone (the broker has taken the batch back).
         */
        private void handle(List<Delivery> batch) {
            List<TransportMessage> messages = new ArrayList<>(batch.size());
            for (Delivery delivery : batch) {
                messages.add(delivery.message());
            }
            long lastTag = batch.get(batch.size() - 1).tag();
            while (true) {
                try {
                    listener.onMessages(subscription.group(), messages);
                    settle(lastTag, true, true, batch.size());
                    return;
                } catch (RuntimeException | Error e) {
                    if (e instanceof VirtualMachineError) {
                        // the batch must be settled, or this channel would hold it until it closes
                        settle(lastTag, true, false, batch.size());
                        throw e;
                    }
                    logRefused(batch, e);
                    if (!pauseBeforeRetry()) {
                        settle(lastTag, true, false, batch.size());
                        return;
                    }
                    if (!getChannel().isOpen()) {
                        log.debug(
                                "Consumer {} of group '{}' lost its channel; the broker delivers its {} message(s)"
                                        + " again",
                                index,
                                subscription.group(),
                                batch.size());
                        return;
                    }
                }
            }
        }

        private void logRefused(List<Delivery> batch, Throwable e) {
            Delivery first = batch.get(0);
            long redelivered =
                    batch.stream().filter(d -> d.envelope().isRedeliver()).count();
            // one line each time, as every consumer fails so once a backoff while the database is down
            log.warn(
                    "Group '{}' could not take {} message(s) (first {}, routing key '{}'{}): {}; trying again in {}",
                    subscription.group(),
                    batch.size(),
                    first.message().id(),
                    first.envelope().getRoutingKey(),
                    redelivered > 0 ? ", " + redelivered + " redelivered" : "",
                    e.toString(),
                    backoff);
            log.debug("Inbox failure of group '{}'", subscription.group(), e);
        }

        private void refuseUnreadable(Delivery delivery) {
            Envelope envelope = delivery.envelope();
            log.warn(
                    "Group '{}' could not read delivery {} (routing key '{}'{}); requeued in {}",
                    subscription.group(),
                    delivery.tag(),
                    envelope.getRoutingKey(),
                    envelope.isRedeliver() ? ", a redelivery" : "",
                    backoff,
                    delivery.unreadable());
            pauseBeforeRetry();
            settle(delivery.tag(), false, false, 1);
        }

        /** Waits for the backoff; returns {@code false} if the transport began to close (or this thread ends). */
        private boolean pauseBeforeRetry() {
            try {
                return !closing.await(backoff.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        /**
         * Acks, or nacks with requeue, {@code tag} alone or with every earlier unsettled delivery of the
         * channel. After the connection's recovery the channel ignores tags it gave out before.
         */
        private void settle(long tag, boolean multiple, boolean ack, int count) {
            batchSettled = true;
            try {
                if (ack) {
                    getChannel().basicAck(tag, multiple);
                } else {
                    getChannel().basicNack(tag, multiple, true);
                }
            } catch (IOException | ShutdownSignalException e) {
                // the broker requeues whatever its channel had not had acked: the deliveries come back
                log.debug(
                        "Could not {} {} delivery(ies) up to {} of group '{}': {}",
                        ack ? "ack" : "nack",
                        count,
                        tag,
                        subscription.group(),
                        e.toString());
            }
        }

        @Override
        public void handleCancel(String consumerTag) {
            if (closing.getCount() == 0 || cancelled) {
                return;
            }
            log.warn(
                    "RabbitMQ cancelled consumer {} of group '{}' (queue '{}' deleted?); restarting it in {}",
                    index,
                    subscription.group(),
                    queue,
                    backoff);
            restartLater(index, this);
        }

        @Override
        public void handleShutdownSignal(String consumerTag, ShutdownSignalException signal) {
            if (closing.getCount() == 0 || signal.isInitiatedByApplication()) {
                return;
            }
            if (signal.isHardError()) {
                log.warn(
                        "Consumer {} of group '{}' lost its connection; automatic recovery restarts it: {}",
                        index,
                        subscription.group(),
                        ConfirmChannel.describe(signal));
                return;
            }
            log.warn(
                    "Consumer {} of group '{}' lost its channel; restarting it in {}: {}",
                    index,
                    subscription.group(),
                    backoff,
                    ConfirmChannel.describe(signal));
            restartLater(index, this);
        }

        void cancel() {
            cancelled = true;
            String tag = getConsumerTag();
            if (tag == null || !getChannel().isOpen()) {
                return;
            }
            try {
                getChannel().basicCancel(tag);
            } catch (IOException | RuntimeException e) {
                log.debug("Cancelling consumer {} of group '{}' failed", index, subscription.group(), e);
            }
        }

        void abort() {
            abortQuietly(getChannel());
        }
    }
}
