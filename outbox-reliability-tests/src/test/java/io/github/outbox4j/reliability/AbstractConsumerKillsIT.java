package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.OutboxSettings;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.testkit.ConsumerProcess;
import io.github.outbox4j.testkit.OutboxTransportContract.OrderPaid;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md §5.1 and §5.3 under load: two consumer groups, each a consumer process of its own ({@link
 * ConsumerProcess}, handler writing an effect row in the inbox transaction), are killed with SIGKILL several times
 * at random moments while thousands of messages flow through the real broker, and each is restarted at once. After
 * the last restart every message must be applied exactly once per group: a message whose handler or inbox write
 * died with a process comes again (broker redelivery, or the retry processor of the next incarnation), and one
 * stored or applied before the kill is not applied again.
 *
 * <p>Extended once per broker; {@value Scale#PROPERTY} multiplies the messages and the kills.
 */
abstract class AbstractConsumerKillsIT {
    private static final List<String> GROUPS = List.of("inventory", "membership");
    private static final int MESSAGES = Scale.of(2_000);
    private static final int KILLS_PER_GROUP = Scale.of(3);
    private static final int MESSAGES_PER_TRANSACTION = 20;
    /** About 130 messages a second: the stream lasts as long as the kills do. */
    private static final Duration TRANSACTION_PERIOD = Duration.ofMillis(150);

    /** The broker, with fresh names. */
    protected abstract BrokerFixture newBroker();

    private final DataSource dataSource = TestServices.postgres();
    private final Map<String, ConsumerProcess> consumers = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
    private final ExecutorService killers = Executors.newFixedThreadPool(GROUPS.size());
    private BrokerFixture broker;
    private TestTables tables;
    private String effects;
    private String topic;
    private Outbox producer;

    @BeforeEach
    void setUp() throws Exception {
        broker = newBroker();
        tables = TestTables.create(dataSource);
        String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt() & 0x7fffffff);
        effects = "effects_" + suffix;
        topic = "order.paid." + suffix;
        // no unique constraint: an effect applied twice must show as a second row
        Sql.execute(
                dataSource,
                "CREATE TABLE " + effects + " (message_id varchar(128) NOT NULL, group_name varchar(200) NOT NULL)");
        broker.createTopic(topic);
        GROUPS.forEach(broker::groupWillSubscribe);
    }

    @AfterEach
    void tearDown() throws Exception {
        timer.shutdownNow();
        killers.shutdownNow();
        for (ConsumerProcess consumer : consumers.values()) {
            consumer.close();
        }
        if (producer != null) {
            producer.close();
        }
        broker.close();
        Sql.execute(dataSource, "DROP TABLE IF EXISTS " + effects);
        tables.close();
    }

    @Test
    void everyMessageIsAppliedOncePerGroupThoughItsConsumersAreKilledAgainAndAgain() throws Exception {
        List<Future<?>> starting = new ArrayList<>();
        for (String group : GROUPS) {
            starting.add(killers.submit(() -> consumers.put(group, startConsumer(group))));
        }
        for (Future<?> started : starting) {
            started.get(2, TimeUnit.MINUTES);
        }
        producer = Outbox.builder()
                .dataSource(dataSource)
                .storageOptions(tables.options())
                .transport(broker.newTransport())
                .retryPolicy(RetryPolicy.builder()
                        .firstDelay(Duration.ofSeconds(1))
                        .interval(Duration.ofSeconds(1))
                        .maxAttempts(1_000)
                        .build())
                .settings(OutboxSettings.builder()
                        .pollInterval(Duration.ofMillis(200))
                        .build())
                .build();
        producer.start();

        AtomicInteger published = new AtomicInteger();
        ScheduledFuture<?> publishing = timer.scheduleAtFixedRate(
                () -> {
                    int first = published.get();
                    if (first >= MESSAGES) {
                        return;
                    }
                    int last = Math.min(MESSAGES, first + MESSAGES_PER_TRANSACTION);
                    producer.inTransaction((connection, publisher) -> {
                        for (int n = first; n < last; n++) {
                            publisher.publish(OutboxMessage.builder(topic, new OrderPaid("o-" + n, n))
                                    .key("o-" + n)
                                    .build());
                        }
                        return null;
                    });
                    published.set(last);
                },
                0,
                TRANSACTION_PERIOD.toMillis(),
                TimeUnit.MILLISECONDS);
        List<Future<Integer>> killing = new ArrayList<>();
        for (String group : GROUPS) {
            killing.add(killers.submit(() -> killRepeatedly(group)));
        }
        int kills = 0;
        for (Future<Integer> killed : killing) {
            kills += killed.get(10L * Scale.factor(), TimeUnit.MINUTES);
        }
        await().atMost(Duration.ofMinutes(5).multipliedBy(Scale.factor())).until(() -> published.get() >= MESSAGES);
        publishing.cancel(false);
        int publishedWhileKilling = published.get();

        await().atMost(Duration.ofMinutes(5).multipliedBy(Scale.factor()))
                .pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> {
                    for (String group : GROUPS) {
                        assertThat(distinctEffects(group))
                                .as("messages applied in " + group)
                                .isEqualTo(MESSAGES);
                    }
                    assertThat(Sql.count(
                                    dataSource,
                                    "SELECT count(*) FROM " + tables.receivedTable()
                                            + " WHERE status IN ('PENDING', 'RETRYING')"))
                            .as("received rows unfinished")
                            .isZero();
                });

        long lost = 0;
        long appliedTwice = 0;
        for (String group : GROUPS) {
            lost += MESSAGES - distinctEffects(group);
            appliedTwice += Sql.count(
                    dataSource,
                    "SELECT count(*) FROM (SELECT message_id FROM " + effects + " WHERE group_name = '" + group
                            + "' GROUP BY message_id HAVING count(*) > 1) twice");
        }
        System.out.printf(
                "[consumer-kills] %s: messages=%d x %d groups, faults=%d SIGKILLs of consumer processes (%d per group,"
                        + " 1-3 s apart, while %d messages were published), lost=%d, applied twice=%d%n",
                broker.name(),
                MESSAGES,
                GROUPS.size(),
                kills,
                KILLS_PER_GROUP,
                publishedWhileKilling,
                lost,
                appliedTwice);

        assertThat(kills).isEqualTo(KILLS_PER_GROUP * GROUPS.size());
        assertThat(lost).as("messages never applied in a group").isZero();
        assertThat(appliedTwice).as("messages applied twice in a group").isZero();
        assertThat(Sql.count(dataSource, "SELECT count(*) FROM " + tables.receivedTable() + " WHERE status = 'FAILED'"))
                .as("received rows FAILED")
                .isZero();
    }

    /** Kills the group's process at random moments, restarting it each time; returns how many kills. */
    private int killRepeatedly(String group) throws Exception {
        for (int kill = 1; kill <= KILLS_PER_GROUP; kill++) {
            long delay = ThreadLocalRandom.current().nextLong(1_000, 3_000);
            timer.schedule(() -> null, delay, TimeUnit.MILLISECONDS).get(); // a random moment of its work
            consumers.get(group).kill();
            consumers.put(group, startConsumer(group));
        }
        return KILLS_PER_GROUP;
    }

    private ConsumerProcess startConsumer(String group) throws Exception {
        return ConsumerProcess.start(
                TestServices.postgresUrl(),
                tables.options(),
                effects,
                topic,
                group,
                broker.transportFactory(),
                Duration.ofSeconds(1),
                ConsumerProcess.Handling.APPLY,
                jvmOptions());
    }

    private List<String> jvmOptions() {
        List<String> options = new ArrayList<>(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        options.addAll(broker.transportFactoryProperties());
        return options;
    }

    private long distinctEffects(String group) {
        return Sql.count(
                dataSource,
                "SELECT count(DISTINCT message_id) FROM " + effects + " WHERE group_name = '" + group + "'");
    }
}
