package io.github.outbox4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What of a body the inbox can store, and which bodies it stores FAILED instead of handing to a handler. */
class InboxBodyTest {

    @Test
    void utf8JsonIsStoredAsItIs() {
        String json = "{\"orderId\":\"订单-1\",\"note\":\"😀 \\u0000 escaped is fine\"}";

        Inbox.Body body = Inbox.decodeBody(json.getBytes(StandardCharsets.UTF_8));

        assertThat(body.problem()).isNull();
        assertThat(body.text()).isEqualTo(json);
    }

    @Test
    void bytesThatAreNotUtf8AreAProblemAndReplacedInTheStoredText() {
        byte[] latin1 = "{\"name\":\"Müller\"}".getBytes(StandardCharsets.ISO_8859_1);

        Inbox.Body body = Inbox.decodeBody(latin1);

        assertThat(body.problem()).isEqualTo("the body is not valid UTF-8: it is not JSON text");
        assertThat(body.text()).isEqualTo("{\"name\":\"M\uFFFDller\"}");
    }

    @Test
    void aNulCharacterIsAProblemAndReplacedBecausePostgresTextRefusesIt() {
        byte[] withNul = {'{', '}', 0, 'x'};

        Inbox.Body body = Inbox.decodeBody(withNul);

        assertThat(body.problem()).contains("NUL");
        assertThat(body.text()).isEqualTo("{}\uFFFDx").doesNotContain("\0");
        assertThat(Inbox.withoutNul("a\0b")).isEqualTo("a\uFFFDb");
        assertThat(Inbox.withoutNul("ab")).isEqualTo("ab");
    }

    @Test
    void anEmptyBodyIsTextAndLeftToTheDeserializer() {
        assertThat(Inbox.decodeBody(new byte[0])).isEqualTo(new Inbox.Body("", null));
    }
}
