package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.OutboxSettings;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.reliability.BrokerFixture.RawHeader;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.TraceContextPropagator;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md §4 and §5.6 for what a broken or foreign producer sends, on a real broker and PostgreSQL: messages
 * with a missing, empty, absurdly long or undecodable {@code outbox-msg-id}, a garbage {@code outbox-sent-time}, an
 * invalid {@code traceparent}, header values and bodies that are not UTF-8, NUL characters, and (where the broker
 * allows it) a header name given twice. Each is sent raw, past the outbox, and followed by a well-formed message.
 *
 * <p>Each malformed message must end as a FAILED inbox row with its reason (alerted), or be handled sensibly
 * (applied once); none may hold up the messages behind it, and every well-formed one is applied exactly once.
 * Everything is sent with one key, so that on Kafka it all queues in one partition behind the malformed messages.
 */
abstract class AbstractMalformedMessageIT {
    private static final String GROUP = "membership";
    private static final String KEY = "one-key";
    private static final String VALID_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    /** The payload. */
    public record OrderPaid(String orderId, long amountCents) {}

    /** What must become of a malformed message. */
    private record Expected(String marker, String failedBecause, int effects) {
        static Expected failed(String marker, String reason) {
            return new Expected(marker, reason, 0);
        }

        static Expected handledOnce(String marker) {
            return new Expected(marker, null, 1);
        }
    }

    /** The broker, with fresh names. */
    protected abstract BrokerFixture newBroker();

    private final DataSource dataSource = TestServices.postgres();
    private final List<OutboxAlert> alerts = new CopyOnWriteArrayList<>();
    private final StrictTraceparent tracing = new StrictTraceparent();
    private final List<Expected> expected = new ArrayList<>();
    private final List<String> good = new ArrayList<>();
    private BrokerFixture broker;
    private TestTables tables;
    private String effects;
    private String topic;
    private Outbox consumer;

    @BeforeEach
    void setUp() throws Exception {
        broker = newBroker();
        tables = TestTables.create(dataSource);
        String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt() & 0x7fffffff);
        effects = "effects_" + suffix;
        topic = "order.paid." + suffix;
        Sql.execute(
                dataSource,
                "CREATE TABLE " + effects + " (message_id varchar(128) NOT NULL, order_id varchar(200) NOT NULL)");
        broker.createTopic(topic);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (consumer != null) {
            consumer.close();
        }
        broker.close();
        Sql.execute(dataSource, "DROP TABLE IF EXISTS " + effects);
        tables.close();
    }

    @Test
    void malformedMessagesFailWithTheirReasonOrAreHandledOnceAndHoldUpNothing() throws Exception {
        startConsumer();

        String longId = "x".repeat(20_000);
        sendMalformed(Expected.failed("missing-id", "missing header outbox-msg-id"), outboxHeaders(null), KEY);
        sendMalformed(Expected.failed("empty-id", "missing header outbox-msg-id"), outboxHeaders(""), KEY);
        sendMalformed(Expected.failed("blank-id", "missing header outbox-msg-id"), outboxHeaders("   "), KEY);
        sendMalformed(Expected.handledOnce("long-id"), outboxHeaders(longId), KEY);
        // the same long id again: recognized as a redelivery, not applied twice
        sendRaw("long-id", outboxHeaders(longId), KEY, body("long-id"));
        sendMalformed(
                Expected.failed("undecodable-id", "header outbox-msg-id is not valid UTF-8"),
                with(outboxHeaders(null), new RawHeader(OutboxHeaders.MESSAGE_ID, new byte[] {'i', 'd', (byte) 0xff})),
                KEY);
        sendMalformed(
                Expected.handledOnce("garbage-sent-time"),
                with(newOutboxHeaders(), RawHeader.text(OutboxHeaders.SENT_TIME, "yesterday, around noon")),
                KEY);
        sendMalformed(
                Expected.handledOnce("invalid-traceparent"),
                with(newOutboxHeaders(), RawHeader.text(OutboxHeaders.TRACEPARENT, "00-not-a-trace-zz")),
                KEY);
        sendMalformed(
                Expected.handledOnce("valid-traceparent"),
                with(newOutboxHeaders(), RawHeader.text(OutboxHeaders.TRACEPARENT, VALID_TRACEPARENT)),
                KEY);
        sendMalformed(
                Expected.handledOnce("undecodable-header"),
                with(newOutboxHeaders(), new RawHeader("tenant", new byte[] {(byte) 0xff, (byte) 0xfe})),
                KEY);
        sendMalformed(
                Expected.handledOnce("nul-in-header"), with(newOutboxHeaders(), RawHeader.text("note", "a\0b")), KEY);
        send(
                Expected.failed("latin1-body", "the body is not valid UTF-8"),
                newOutboxHeaders(),
                KEY,
                ("{\"orderId\":\"latin1-body\",\"amountCents\":1,\"note\":\"Müller\"}")
                        .getBytes(StandardCharsets.ISO_8859_1));
        send(
                Expected.failed("nul-in-body", "the body contains NUL characters"),
                newOutboxHeaders(),
                KEY,
                "{\"orderId\":\"nul-in-body\",\"amountCents\":1}\0".getBytes(StandardCharsets.UTF_8));
        int repeatedHeaders = 0;
        if (broker.allowsRepeatedHeaders()) {
            // Kafka keeps both; the last counts, as Headers.lastHeader reads it
            String first = UUID.randomUUID().toString();
            String last = UUID.randomUUID().toString();
            List<RawHeader> twoIds = with(outboxHeaders(first), RawHeader.text(OutboxHeaders.MESSAGE_ID, last));
            sendMalformed(Expected.handledOnce("repeated-id"), twoIds, KEY);
            sendMalformed(new Expected("repeated-id-again", null, 0), outboxHeaders(last), KEY);
            sendMalformed(Expected.handledOnce("nul-in-key"), newOutboxHeaders(), "key\0with-nul");
            repeatedHeaders = 1;
        }

        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> {
                    assertThat(good)
                            .allSatisfy(orderId -> assertThat(effects(orderId))
                                    .as("well-formed " + orderId)
                                    .isEqualTo(1));
                    for (Expected expectation : expected) {
                        if (expectation.failedBecause() != null) {
                            assertThat(Sql.count(
                                            dataSource,
                                            "SELECT count(*) FROM " + tables.receivedTable()
                                                    + " WHERE status = 'FAILED' AND payload LIKE '%\""
                                                    + expectation.marker()
                                                    + "\"%' AND last_error LIKE '" + expectation.failedBecause()
                                                    + "%'"))
                                    .as(expectation.marker() + " FAILED because " + expectation.failedBecause())
                                    .isEqualTo(1);
                        }
                    }
                });

        long failed = 0;
        long handled = 0;
        for (Expected expectation : expected) {
            assertThat(effects(expectation.marker()))
                    .as("effects of " + expectation.marker())
                    .isEqualTo(expectation.effects());
            if (expectation.failedBecause() != null) {
                failed++;
            } else {
                handled += expectation.effects();
            }
        }
        long goodLost = good.stream().filter(orderId -> effects(orderId) == 0).count();
        long appliedTwice = Sql.count(
                dataSource,
                "SELECT count(*) FROM (SELECT order_id FROM " + effects
                        + " GROUP BY order_id HAVING count(*) > 1) twice");
        long failedRows =
                Sql.count(dataSource, "SELECT count(*) FROM " + tables.receivedTable() + " WHERE status = 'FAILED'");
        System.out.printf(
                "[malformed] %s: messages=%d (%d malformed or odd, %d well-formed), faults=%d: FAILED with their"
                        + " reason=%d, handled once=%d, skipped as a redelivery=%d; well-formed lost=%d, applied twice=%d%n",
                broker.name(),
                expected.size() + 1 + good.size(),
                expected.size() + 1,
                good.size(),
                expected.size() + 1,
                failed,
                handled,
                1 + repeatedHeaders,
                goodLost,
                appliedTwice);

        assertThat(goodLost).isZero();
        assertThat(appliedTwice).isZero();
        assertThat(failedRows)
                .as("FAILED inbox rows: exactly the malformed messages")
                .isEqualTo(failed);
        assertThat(tracing.restored).containsExactly(VALID_TRACEPARENT);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> alerts.stream().mapToInt(OutboxAlert::count).sum() >= 1);
    }

    private void startConsumer() {
        consumer = Outbox.builder()
                .dataSource(dataSource)
                .storageOptions(tables.options())
                .transport(broker.newTransport())
                .retryPolicy(RetryPolicy.builder()
                        .firstDelay(Duration.ofSeconds(1))
                        .interval(Duration.ofSeconds(1))
                        .build())
                .settings(OutboxSettings.builder()
                        .pollInterval(Duration.ofMillis(200))
                        .build())
                .traceContextPropagator(tracing)
                .alertListener(alerts::add)
                .build();
        consumer.subscribe(topic, GROUP, OrderPaid.class, (OrderPaid payload, ReceivedMessage message) -> {
            try (PreparedStatement insert = message.connection()
                    .prepareStatement("INSERT INTO " + effects + " (message_id, order_id) VALUES (?, ?)")) {
                insert.setString(1, message.id());
                insert.setString(2, payload.orderId());
                insert.executeUpdate();
            }
            return null;
        });
        broker.groupWillSubscribe(GROUP);
        consumer.start();
    }

    /** Sends a malformed message whose body is a valid payload, then a well-formed one. */
    private void sendMalformed(Expected expectation, List<RawHeader> headers, String key) throws Exception {
        send(expectation, headers, key, body(expectation.marker()));
    }

    private void send(Expected expectation, List<RawHeader> headers, String key, byte[] body) throws Exception {
        expected.add(expectation);
        sendRaw(expectation.marker(), headers, key, body);
        String orderId = "good-" + good.size();
        good.add(orderId);
        sendRaw(orderId, newOutboxHeaders(), KEY, body(orderId));
    }

    private void sendRaw(String marker, List<RawHeader> headers, String key, byte[] body) throws Exception {
        broker.sendRaw(topic, key, headers, body);
    }

    private static byte[] body(String orderId) {
        return ("{\"orderId\":\"" + orderId + "\",\"amountCents\":1}").getBytes(StandardCharsets.UTF_8);
    }

    private List<RawHeader> newOutboxHeaders() {
        return outboxHeaders(UUID.randomUUID().toString());
    }

    /** The headers an outbox publisher sends; without the id when {@code id} is null. */
    private List<RawHeader> outboxHeaders(String id) {
        List<RawHeader> headers = new ArrayList<>();
        if (id != null) {
            headers.add(RawHeader.text(OutboxHeaders.MESSAGE_ID, id));
        }
        headers.add(RawHeader.text(OutboxHeaders.MESSAGE_NAME, topic));
        headers.add(RawHeader.text(OutboxHeaders.CONTENT_TYPE, OutboxHeaders.JSON));
        return headers;
    }

    private static List<RawHeader> with(List<RawHeader> headers, RawHeader extra) {
        List<RawHeader> all = new ArrayList<>(headers);
        all.add(extra);
        return all;
    }

    private long effects(String orderId) {
        return Sql.count(dataSource, "SELECT count(*) FROM " + effects + " WHERE order_id = '" + orderId + "'");
    }

    /**
     * Reads W3C {@code traceparent} strictly and throws on anything else, as a strict propagator may: a trace
     * context it cannot read must not fail the message. Remembers what it restored.
     */
    private static final class StrictTraceparent implements TraceContextPropagator {
        private static final Pattern VALID = Pattern.compile("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
        final Set<String> restored = ConcurrentHashMap.newKeySet();

        @Override
        public Map<String, String> currentContext() {
            return Map.of();
        }

        @Override
        public Scope restore(Map<String, String> headers) {
            String traceparent = headers.get(OutboxHeaders.TRACEPARENT);
            if (traceparent == null) {
                return () -> {};
            }
            if (!VALID.matcher(traceparent).matches()) {
                throw new IllegalArgumentException("not a W3C traceparent: " + traceparent);
            }
            restored.add(traceparent);
            return () -> {};
        }
    }
}
