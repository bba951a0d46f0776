package io.github.outbox4j.internal;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.OutboxException;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.spi.MessageOutcome;
import io.github.outbox4j.spi.OutboxSerializer;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.spi.TraceContextPropagator;
import io.github.outbox4j.spi.TransactionRunner;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call of a consumer's handler, in a local transaction that first marks the inbox row SUCCEEDED — fenced
 * by the row's version, so that a row another worker took over is not handled here, and locking the row, so that
 * no other worker takes it while the handler runs. If the handler throws, the whole transaction rolls back, the
 * mark with it. That is what makes a handler's effects apply once per message and group, and a handler run at
 * most once at a time. A non-null result is published to the message's callback topic in the same transaction.
 */
public final class HandlerAttempt implements MessageProcessor.Attempt {
    private static final Logger log = LoggerFactory.getLogger(HandlerAttempt.class);

    private final Subscribers subscribers;
    private final OutboxSerializer serializer;
    private final OutboxStorage storage;
    private final TransactionRunner transactions;
    private final Executor executor;
    private final Clock clock;
    private final Duration succeededRetention;
    private final TraceContextPropagator tracing;

    public HandlerAttempt(
            Subscribers subscribers,
            OutboxSerializer serializer,
            OutboxStorage storage,
            TransactionRunner transactions,
            Executor executor,
            Clock clock,
            Duration succeededRetention,
            TraceContextPropagator tracing) {
        this.subscribers = subscribers;
        this.serializer = serializer;
        this.storage = storage;
        this.transactions = transactions;
        this.executor = executor;
        this.clock = clock;
        this.succeededRetention = succeededRetention;
        this.tracing = tracing;
    }

    /** The handler's transaction marks the row SUCCEEDED before the handler runs. */
    @Override
    public boolean recordsItsOwnSuccess() {
        return true;
    }

    @Override
    public CompletionStage<Void> run(StoredMessage message, int attemptNumber) {
        return CompletableFuture.runAsync(
                () -> {
                    // the publisher's trace context, stored with the message, is the parent of every attempt
                    try (TraceContextPropagator.Scope scope = restoreTrace(message)) {
                        try {
                            handle(message, attemptNumber);
                        } catch (RuntimeException | Error e) {
                            scope.failed(e);
                            throw e;
                        }
                    }
                },
                executor);
    }

    /**
     * The trace context is for diagnosis only: headers a propagator cannot read (a malformed {@code
     * traceparent} from a foreign producer) must not make the message fail, so the handler then runs without it.
     */
    private TraceContextPropagator.Scope restoreTrace(StoredMessage message) {
        try {
            return tracing.restore(message.headers());
        } catch (RuntimeException e) {
            log.warn(
                    "Cannot restore the trace context of message {} of topic '{}' ({}); handling it without",
                    message.id(),
                    message.topic(),
                    e.toString());
            return () -> {};
        }
    }

    private void handle(StoredMessage row, int attemptNumber) {
        Subscribers.Subscriber subscriber = subscribers.find(row.group(), row.topic());
        if (subscriber == null) {
            throw new NoHandlerException(row);
        }
        Object payload = serializer.deserialize(row.payload(), subscriber.payloadType());
        transactions.inTransaction((connection, publisher) -> {
            // SUCCEEDED first, fenced by version: the row stays locked until the handler's transaction ends, so no
            // other worker can claim it meanwhile, and a row another worker claimed first is not handled here at
            // all. A handler that throws rolls this back with its own writes.
            MessageOutcome succeeded = MessageOutcome.succeeded(
                    row, attemptNumber, MessageProcessor.expiry(clock.instant(), succeededRetention));
            if (storage.complete(connection, MessageKind.RECEIVED, List.of(succeeded))
                    .isEmpty()) {
                throw new StaleClaimException("Message " + row.id() + " of group " + row.group()
                        + " was taken over by another worker; it is handled there, not here");
            }
            ReceivedMessage received = new ReceivedMessage(
                    row.id(), row.topic(), row.group(), row.key(), row.headers(), attemptNumber, connection, publisher);
            Object result = invoke(subscriber, payload, received);
            String callbackTopic = row.headers().get(OutboxHeaders.CALLBACK_NAME);
            if (result != null && callbackTopic != null) {
                publisher.publish(OutboxMessage.builder(callbackTopic, result)
                        .correlationId(row.id())
                        .build());
            }
            return null;
        });
    }

    private static Object invoke(Subscribers.Subscriber subscriber, Object payload, ReceivedMessage received) {
        try {
            return subscriber.handler().handle(payload, received);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new OutboxException(
                    "Handler of topic '" + received.topic() + "' in group '" + received.group() + "' failed: " + e, e);
        }
    }

    /** A row whose topic no longer has a handler in its group: retrying cannot help until one is deployed. */
    static final class NoHandlerException extends OutboxException {
        private static final long serialVersionUID = 1L;

        NoHandlerException(StoredMessage row) {
            super("no handler for topic '" + row.topic() + "' in group '" + row.group() + "'");
        }
    }
}
