package io.github.outbox4j.internal;

import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.spi.TransportMessage;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/** One send of a published row to the broker, stamped with the time it was sent. */
public final class PublishAttempt implements MessageProcessor.Attempt {
    private final OutboxTransport transport;
    private final Clock clock;

    public PublishAttempt(OutboxTransport transport, Clock clock) {
        this.transport = transport;
        this.clock = clock;
    }

    @Override
    public CompletionStage<Void> run(StoredMessage message, int attemptNumber) {
        Map<String, String> headers = new LinkedHashMap<>(message.headers());
        headers.put(OutboxHeaders.SENT_TIME, clock.instant().toString());
        return transport.send(new TransportMessage(
                message.id(),
                message.topic(),
                message.key(),
                headers,
                message.payload().getBytes(StandardCharsets.UTF_8)));
    }
}
