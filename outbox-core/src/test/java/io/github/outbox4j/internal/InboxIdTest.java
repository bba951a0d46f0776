package io.github.outbox4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class InboxIdTest {

    @Test
    void anOutboxIdIsStoredAsItIs() {
        String id = "019b8d2b-8c00-725b-8ad0-59259332d63e";
        assertThat(Inbox.storableId(id)).isEqualTo(id);
        assertThat(Inbox.storableId("kafka:orders:2:1234")).isEqualTo("kafka:orders:2:1234");
    }

    @Test
    void anIdTheColumnCannotHoldIsReplacedByAStableHash() {
        String longId = "kafka:" + "a-very-long-topic-name.".repeat(10) + ":0:42";
        String hashed = Inbox.storableId(longId);
        assertThat(hashed).startsWith("sha256:").hasSize(7 + 64);
        assertThat(Inbox.storableId(longId)).as("the same on redelivery").isEqualTo(hashed);
        assertThat(Inbox.storableId(longId + "3")).isNotEqualTo(hashed);

        assertThat(Inbox.storableId("订单-42")).startsWith("sha256:");
        assertThat(Inbox.storableId("with space")).startsWith("sha256:");
        assertThat(Inbox.storableId("x".repeat(Inbox.MAX_ID_LENGTH))).isEqualTo("x".repeat(Inbox.MAX_ID_LENGTH));
        assertThat(Inbox.storableId("x".repeat(Inbox.MAX_ID_LENGTH + 1))).startsWith("sha256:");
    }
}
