package io.github.outbox4j.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates each topic once, before its first use, with the configured partitions and replication factor, and waits
 * until every partition has a leader: a send to a partition still without one fails with {@code
 * NOT_LEADER_OR_FOLLOWER}, after which the idempotent producer can be stuck on {@code OUT_OF_ORDER_SEQUENCE_NUMBER}
 * for many seconds. A topic that exists already is left as it is. Thread-safe.
 */
final class TopicCreator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TopicCreator.class);
    /** Pause between two looks at a new topic's partition leaders, which a broker elects within milliseconds. */
    private static final long LEADER_POLL_MILLIS = 20;

    private final Admin admin;
    private final KafkaOutboxTransport.TopicSpec spec;
    private final Duration timeout;
    private final Set<String> settled = ConcurrentHashMap.newKeySet();

    TopicCreator(Map<String, Object> adminConfig, KafkaOutboxTransport.TopicSpec spec, Duration timeout) {
        this.admin = Admin.create(adminConfig);
        this.spec = spec;
        this.timeout = timeout;
    }

    /**
     * Makes sure {@code topic} exists, waiting at most the producer's {@code max.block.ms}. Throws Kafka's {@link
     * TimeoutException} when the broker does not answer in time (the send fails and is retried); any other
     * refusal (not allowed, replication factor too high) is logged once and left to the broker's auto-creation.
     */
    void ensure(String topic) {
        if (settled.contains(topic)) {
            return;
        }
        NewTopic newTopic = new NewTopic(topic, spec.partitions(), spec.replicationFactor());
        CreateTopicsOptions options =
                new CreateTopicsOptions().timeoutMs((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            admin.createTopics(List.of(newTopic), options).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            awaitLeaders(topic, deadline);
            settled.add(topic);
            log.info(
                    "Created Kafka topic '{}' ({} partitions, replication factor {})",
                    topic,
                    spec.partitions(),
                    spec.replicationFactor());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof TopicExistsException) {
                awaitLeaders(topic, deadline);
                settled.add(topic);
            } else if (cause instanceof RetriableException) {
                throw new TimeoutException("Could not create Kafka topic '" + topic + "': " + cause, cause);
            } else {
                settled.add(topic);
                log.warn("Could not create Kafka topic '{}' ({}); leaving it to the broker", topic, cause.toString());
            }
        } catch (java.util.concurrent.TimeoutException e) {
            throw new TimeoutException("Kafka did not create topic '" + topic + "' within " + timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new org.apache.kafka.common.errors.InterruptException(e);
        }
    }

    /**
     * Waits until every partition of {@code topic} has a leader, or until {@code deadline}: then the producer's own
     * retries take over, so it is logged, not thrown.
     */
    private void awaitLeaders(String topic, long deadline) {
        while (true) {
            long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            try {
                TopicDescription description = admin.describeTopics(List.of(topic))
                        .allTopicNames()
                        .get(Math.max(1, remainingMillis), TimeUnit.MILLISECONDS)
                        .get(topic);
                if (description.partitions().stream()
                        .allMatch(partition -> partition.leader() != null
                                && !partition.leader().isEmpty())) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new org.apache.kafka.common.errors.InterruptException(e);
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                // a topic just created may not be known to the broker answering yet: ask again
                log.debug("Describing Kafka topic '{}' failed: {}", topic, e.toString());
            }
            if (System.nanoTime() - deadline >= 0) {
                log.info("Kafka topic '{}' still has partitions without a leader after {}", topic, timeout);
                return;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(LEADER_POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new org.apache.kafka.common.errors.InterruptException(e);
            }
        }
    }

    @Override
    public void close() {
        try {
            admin.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.warn("Closing the Kafka admin client failed", e);
        }
    }
}
