package io.github.outbox4j.internal;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxException;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.spi.InboundListener;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.spi.TransportMessage;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving end of a transport: stores the messages of a delivery in {@code msg_received} (unique per
 * message id and group), in one transaction, and returns once they are durable, so the transport may acknowledge
 * them and take its next delivery; the new ones are handled meanwhile, on the handler threads. At most {@code
 * maxInHandling} stored messages wait for or are in handling at a time: beyond, {@link #onMessages} waits, which
 * slows the consumers down to the handlers' pace. A message received before by the same group is skipped. A
 * message that cannot be handled at all — no {@code outbox-msg-id} header or one that is not UTF-8, a body that is
 * not UTF-8 text, no handler for its topic in the group — is stored FAILED with the reason and alerted, and does
 * not hold up the messages behind it.
 *
 * <p>A fresh row is due at its first-delay time: if this process dies before handling it, the retry
 * processor of any instance handles it then. Thread-safe.
 */
public final class Inbox implements InboundListener {
    private static final Logger log = LoggerFactory.getLogger(Inbox.class);

    /** The id column's width: printable ASCII only. */
    static final int MAX_ID_LENGTH = 128;
    /** The key column's width; a longer key is cut, as the inbox keeps it for information only. */
    static final int MAX_KEY_LENGTH = 255;
    /** What a decoder puts in place of bytes that are not UTF-8 (U+FFFD). */
    static final char UNDECODABLE = '\uFFFD';

    private final OutboxStorage storage;
    private final Subscribers subscribers;
    private final MessageProcessor processor;
    private final AlertDispatcher alerts;
    private final Clock clock;
    private final Duration firstDelay;
    private final Duration failedRetention;
    private final OutboxObserver observer;
    private final LongAdder duplicates = new LongAdder();
    private final int maxInHandling;
    /** One permit per message that may be in handling. */
    private final Semaphore inHandling;

    public Inbox(
            OutboxStorage storage,
            Subscribers subscribers,
            MessageProcessor processor,
            AlertDispatcher alerts,
            Clock clock,
            Duration firstDelay,
            Duration failedRetention,
            OutboxObserver observer,
            int maxInHandling) {
        this.storage = storage;
        this.subscribers = subscribers;
        this.processor = processor;
        this.alerts = alerts;
        this.clock = clock;
        this.firstDelay = firstDelay;
        this.failedRetention = failedRetention;
        this.observer = observer;
        this.maxInHandling = maxInHandling;
        this.inHandling = new Semaphore(maxInHandling);
    }

    @Override
    public void onMessages(String group, List<TransportMessage> messages) {
        List<StoredMessage> rows = new ArrayList<>(messages.size());
        Map<StoredMessage, String> problems = new IdentityHashMap<>();
        for (TransportMessage message : messages) {
            Body body = decodeBody(message.body());
            String problem = problemOf(group, message, body);
            StoredMessage row = row(group, message, body, problem);
            rows.add(row);
            if (problem != null) {
                problems.put(row, problem);
            }
        }
        // one write for the whole batch: one commit instead of one per message
        Set<StoredMessage> stored = Collections.newSetFromMap(new IdentityHashMap<>());
        stored.addAll(storage.insertReceived(rows));
        List<StoredMessage> toHandle = new ArrayList<>(messages.size());
        for (StoredMessage row : rows) {
            if (!stored.contains(row)) {
                duplicates.increment();
                observer.duplicate(row.topic(), group);
                log.debug("Message {} was already received by group {}; skipped", row.id(), group);
                continue;
            }
            observer.received(row.topic(), group);
            String problem = problems.get(row);
            if (problem != null) {
                log.warn(
                        "Message {} of topic '{}' for group {} stored as FAILED: {}",
                        row.id(),
                        row.topic(),
                        group,
                        problem);
                observer.exhausted(MessageKind.RECEIVED, row.topic(), group);
                alerts.exhausted(MessageKind.RECEIVED, row, problem);
            } else {
                toHandle.add(row);
            }
        }
        if (!toHandle.isEmpty()) {
            handleLater(toHandle);
        }
    }

    /**
     * Starts handling {@code rows} and returns without waiting for it: they are stored, due for the retry processor
     * if this process dies, so handling them now only saves the wait for it.
     */
    private void handleLater(List<StoredMessage> rows) {
        int permits = Math.min(rows.size(), maxInHandling);
        try {
            inHandling.acquire(permits);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OutboxException(
                    "Interrupted while waiting for the handlers; the " + rows.size()
                            + " stored messages are handled by the retry processor",
                    e);
        }
        MessageProcessor.Attempts attempts;
        try {
            attempts = processor.start(rows);
        } catch (RuntimeException | Error e) {
            inHandling.release(permits);
            throw e;
        }
        attempts.done().whenComplete((ignored, error) -> {
            try {
                processor.record(List.of(attempts));
            } finally {
                inHandling.release(permits);
            }
        });
    }

    /** Waits until no stored message is in handling, at most {@code timeout}; returns whether none is. */
    public boolean awaitHandled(Duration timeout) {
        try {
            if (!inHandling.tryAcquire(maxInHandling, timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        inHandling.release(maxInHandling);
        return true;
    }

    /** Deliveries skipped because the group had received the message before. */
    public long duplicates() {
        return duplicates.sum();
    }

    private String problemOf(String group, TransportMessage message, Body body) {
        String id = message.headers().get(OutboxHeaders.MESSAGE_ID);
        if (id == null || id.isBlank()) {
            return "missing header " + OutboxHeaders.MESSAGE_ID + ": not a message published by Outbox4j";
        }
        if (id.indexOf(UNDECODABLE) >= 0) {
            return "header " + OutboxHeaders.MESSAGE_ID + " is not valid UTF-8: not a message published by Outbox4j";
        }
        if (body.problem() != null) {
            return body.problem();
        }
        if (subscribers.find(group, message.topic()) == null) {
            return "no handler for topic '" + message.topic() + "' in group '" + group + "'";
        }
        return null;
    }

    private StoredMessage row(String group, TransportMessage message, Body body, String problem) {
        Instant now = clock.instant();
        String id = storableId(message.id());
        String topic = withoutNul(message.topic());
        String key = message.key() == null || message.key().length() <= MAX_KEY_LENGTH
                ? message.key()
                : message.key().substring(0, MAX_KEY_LENGTH);
        key = key == null ? null : withoutNul(key);
        if (problem == null) {
            return StoredMessage.pending(
                    id, group, topic, key, message.headers(), body.text(), now, now.plus(firstDelay));
        }
        return new StoredMessage(
                id,
                group,
                topic,
                key,
                message.headers(),
                body.text(),
                MessageStatus.FAILED,
                0,
                now,
                null,
                now.plus(failedRetention),
                problem,
                0);
    }

    /** A message body as the payload column holds it, and why it cannot be a payload, if it cannot. */
    record Body(String text, String problem) {}

    /**
     * Reads a body as the JSON text of DESIGN.md §6 must be: UTF-8, without NUL characters (JSON text cannot
     * hold them unescaped, and PostgreSQL's text columns refuse them). A body that is neither gets a problem,
     * so that its row is stored FAILED rather than refused by the database, which would hold up every message
     * delivered with it; its text keeps what can be read, with U+FFFD in place of the rest.
     */
    static Body decodeBody(byte[] bytes) {
        try {
            String text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
            if (text.indexOf('\0') >= 0) {
                return new Body(withoutNul(text), "the body contains NUL characters: it is not JSON text");
            }
            return new Body(text, null);
        } catch (CharacterCodingException e) {
            return new Body(
                    withoutNul(new String(bytes, StandardCharsets.UTF_8)),
                    "the body is not valid UTF-8: it is not JSON text");
        }
    }

    /** {@code text} with each NUL character replaced by U+FFFD: PostgreSQL's text columns refuse NUL. */
    static String withoutNul(String text) {
        return text.indexOf('\0') < 0 ? text : text.replace('\0', UNDECODABLE);
    }

    /**
     * The id as the inbox stores it. Ids from other publishers (or transports' position ids) may be longer
     * than the id column or hold characters it does not take; such an id is replaced by its SHA-256, which is
     * just as stable, so a redelivery is still recognized.
     */
    static String storableId(String id) {
        if (id.length() <= MAX_ID_LENGTH && id.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            return id;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return "sha256:" + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
