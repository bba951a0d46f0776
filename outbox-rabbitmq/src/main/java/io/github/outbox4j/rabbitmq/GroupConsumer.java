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
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumers of one group: {@link Subscription#concurrency()} channels on the consumer connection, each
 * with one consumer on the group's queue, {@code basicQos(prefetch)} and manual acks. A delivery is handed to
 * the {@link InboundListener} and acked once it returned; if it throws, the delivery is nacked with requeue
 * after the redelivery backoff, during which this channel takes no other delivery (so a failing inbox, e.g. a
 * database outage, is retried at that pace, not in a hot loop).
 *
 * <p>A lost connection is the client's automatic recovery's business: it reopens the channels, declares the
 * topology again and restarts the consumers. What it does not recover, a channel closed alone by the broker or
 * a consumer cancelled by it (its queue was deleted), is restarted here on a new channel after the backoff.
 */
final class GroupConsumer {
    private static final Logger log = LoggerFactory.getLogger(GroupConsumer.class);

    private final Subscription subscription;
    private final String queue;
    private final String exchange;
    private final int prefetch;
    private final Duration backoff;
    private final InboundListener listener;
    private final Connection connection;
    private final ScheduledExecutorService timer;
    private final CountDownLatch closing;
    private final AtomicReferenceArray<Worker> workers;

    GroupConsumer(
            Subscription subscription,
            String queue,
            String exchange,
            int prefetch,
            Duration backoff,
            InboundListener listener,
            Connection connection,
            ScheduledExecutorService timer,
            CountDownLatch closing) {
        this.subscription = subscription;
        this.queue = queue;
        this.exchange = exchange;
        this.prefetch = prefetch;
        this.backoff = backoff;
        this.listener = listener;
        this.connection = connection;
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

    /** Stops new deliveries; those being handled finish. */
    void cancel() {
        for (int i = 0; i < workers.length(); i++) {
            Worker worker = workers.get(i);
            if (worker != null) {
                worker.cancel();
            }
        }
    }

    /** Waits until no delivery is being handled, or until {@code deadlineNanos}; returns whether idle. */
    boolean awaitIdle(long deadlineNanos) {
        for (int i = 0; i < workers.length(); i++) {
            Worker worker = workers.get(i);
            while (worker != null && worker.busy && System.nanoTime() - deadlineNanos < 0) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            if (worker != null && worker.busy) {
                return false;
            }
        }
        return true;
    }

    private Worker open(int index) throws IOException {
        Channel channel = connection.createChannel();
        if (channel == null) {
            throw new IOException("the connection has no channel left (channel_max reached)");
        }
        try {
            // every consumer channel declares: the client's topology recovery replays declarations on the
            // channel that made them, so they must be made on channels that live
            Topology.declareQueue(channel, exchange, queue, subscription.topics());
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
        } catch (java.util.concurrent.RejectedExecutionException e) {
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

    /** One consumer on its own channel; the client calls it from one thread at a time. */
    private final class Worker extends DefaultConsumer {
        private final int index;
        private volatile boolean busy;
        private volatile boolean cancelled;

        Worker(Channel channel, int index) {
            super(channel);
            this.index = index;
        }

        @Override
        public void handleDelivery(
                String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
            busy = true;
            try {
                handle(envelope, properties, body);
            } finally {
                busy = false;
            }
        }

        private void handle(Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
            long tag = envelope.getDeliveryTag();
            String messageId = null;
            try {
                TransportMessage message =
                        InboundMessages.toTransportMessage(queue, envelope.getRoutingKey(), properties, body);
                messageId = message.id();
                listener.onMessages(subscription.group(), List.of(message));
            } catch (RuntimeException | Error e) {
                // Errors too: an exception escaping to the client would close the channel for good
                log.warn(
                        "Group '{}' could not take message {} (routing key '{}'{}); requeued in {}",
                        subscription.group(),
                        messageId,
                        envelope.getRoutingKey(),
                        envelope.isRedeliver() ? ", a redelivery" : "",
                        backoff,
                        e);
                pauseBeforeRequeue();
                settle(tag, false);
                return;
            }
            settle(tag, true);
        }

        private void pauseBeforeRequeue() {
            try {
                closing.await(backoff.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void settle(long tag, boolean ack) {
            try {
                if (ack) {
                    getChannel().basicAck(tag, false);
                } else {
                    getChannel().basicNack(tag, false, true);
                }
            } catch (IOException | ShutdownSignalException e) {
                // the broker requeues whatever its channel had not had acked: the delivery comes back
                log.debug(
                        "Could not {} delivery {} of group '{}': {}",
                        ack ? "ack" : "nack",
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
