package io.github.outbox4j.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.sun.net.httpserver.HttpServer;
import io.github.outbox4j.MessageKind;
import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.testing.LogCapture;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

@Timeout(60) // a hang guard: an engine bug must fail the test, not stall the build
class WebhookAlertListenerTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final OutboxAlert ALERT = new OutboxAlert(
            MessageKind.RECEIVED,
            "order.paid",
            "inventory",
            3,
            List.of("0195-a", "0195-b"),
            "java.lang.IllegalStateException: stock service down",
            Instant.parse("2025-03-01T10:50:00Z"));

    private final BlockingQueue<Received> requests = new LinkedBlockingQueue<>();
    private volatile int status = 200;
    private HttpServer server;

    /** One request as the webhook endpoint saw it. */
    private record Received(String method, String path, String contentType, String body) {}

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/hook", exchange -> {
            Received request;
            try (InputStream in = exchange.getRequestBody()) {
                request = new Received(
                        exchange.getRequestMethod(),
                        exchange.getRequestURI().getPath(),
                        exchange.getRequestHeaders().getFirst("Content-Type"),
                        new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            byte[] answer = (status == 200 ? "ok" : "robot is down").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
            // handed to the test only once answered, so that stopping the server cannot cut the answer off
            requests.add(request);
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    @Test
    void jsonFormatPostsEveryFieldOfTheAlert() throws Exception {
        listener(WebhookAlertListener.Format.JSON).onExhausted(ALERT);

        Received request = nextRequest();
        assertPostOfJson(request);
        JsonNode body = JSON.readTree(request.body());
        assertThat(body.get("kind").asString()).isEqualTo("RECEIVED");
        assertThat(body.get("topic").asString()).isEqualTo("order.paid");
        assertThat(body.get("group").asString()).isEqualTo("inventory");
        assertThat(body.get("count").asInt()).isEqualTo(3);
        assertThat(body.get("messageIds").size()).isEqualTo(2);
        assertThat(body.get("messageIds").get(0).asString()).isEqualTo("0195-a");
        assertThat(body.get("lastError").asString()).isEqualTo("java.lang.IllegalStateException: stock service down");
        assertThat(body.get("raisedAt").asString()).isEqualTo("2025-03-01T10:50:00Z");
        assertThat(body.get("text").asString()).isEqualTo("[Outbox4j] " + ALERT.summary());
    }

    @Test
    void jsonFormatWritesANullGroupForThePublishedSide() throws Exception {
        OutboxAlert published = new OutboxAlert(
                MessageKind.PUBLISHED, "order.paid", null, 1, List.of("0195-a"), "broker down", Instant.EPOCH);

        listener(WebhookAlertListener.Format.JSON).onExhausted(published);

        JsonNode body = JSON.readTree(nextRequest().body());
        assertThat(body.has("group")).isTrue();
        assertThat(body.get("group").isNull()).isTrue();
        assertThat(body.get("kind").asString()).isEqualTo("PUBLISHED");
    }

    @Test
    void slackFormatPostsText() throws Exception {
        listener(WebhookAlertListener.Format.SLACK).onExhausted(ALERT);

        Received request = nextRequest();
        assertPostOfJson(request);
        JsonNode body = JSON.readTree(request.body());
        assertThat(body.size()).isOne();
        assertThat(body.get("text").asString())
                .startsWith("[Outbox4j] 3 messages of topic 'order.paid'")
                .contains("group inventory")
                .contains("stock service down");
    }

    @Test
    void textMessageFormatPostsARobotMessage() throws Exception {
        listener(WebhookAlertListener.Format.TEXT_MESSAGE).onExhausted(ALERT);

        Received request = nextRequest();
        assertPostOfJson(request);
        JsonNode body = JSON.readTree(request.body());
        assertThat(body.get("msgtype").asString()).isEqualTo("text");
        assertThat(body.get("text").get("content").asString()).isEqualTo("[Outbox4j] " + ALERT.summary());
    }

    @Test
    void errorAnswerIsLoggedNotThrown() throws Exception {
        status = 500;
        try (LogCapture log = LogCapture.of(WebhookAlertListener.class)) {
            assertThatCode(() -> listener(WebhookAlertListener.Format.SLACK).onExhausted(ALERT))
                    .doesNotThrowAnyException();

            assertThat(nextRequest()).isNotNull();
            assertThat(firstWarning(log, server.getAddress().getPort()))
                    .contains("answered 500")
                    .contains("robot is down")
                    .contains("order.paid");
        }
    }

    @Test
    void unreachableUrlIsLoggedNotThrown() throws Exception {
        // a port bound but not listening refuses connections, and no other process can take it meanwhile
        try (Socket reserved = new Socket()) {
            reserved.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = reserved.getLocalPort();
            WebhookAlertListener listener = new WebhookAlertListener(
                    URI.create("http://127.0.0.1:" + port + "/hook"),
                    WebhookAlertListener.Format.JSON,
                    Duration.ofSeconds(5));

            try (LogCapture log = LogCapture.of(WebhookAlertListener.class)) {
                assertThatCode(() -> listener.onExhausted(ALERT)).doesNotThrowAnyException();

                assertThat(firstWarning(log, port)).contains("failed").contains("order.paid");
            }
        }
    }

    @Test
    void endpointThatNeverAnswersIsLoggedAfterTheTimeout() throws Exception {
        // accepted by the kernel's backlog, never read: the request can only time out
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            WebhookAlertListener listener = new WebhookAlertListener(
                    URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/hook"),
                    WebhookAlertListener.Format.JSON,
                    Duration.ofMillis(200));

            try (LogCapture log = LogCapture.of(WebhookAlertListener.class)) {
                assertThatCode(() -> listener.onExhausted(ALERT)).doesNotThrowAnyException();

                assertThat(firstWarning(log, silent.getLocalPort()))
                        .contains("failed")
                        .contains("order.paid");
            }
        }
    }

    /**
     * Waits for the listener's asynchronous post to {@code port} to log its failure. The logger is shared by every
     * listener, so warnings about other tests' endpoints are left out.
     */
    private static String firstWarning(LogCapture log, int port) {
        String endpoint = "http://127.0.0.1:" + port + "/hook";
        await().atMost(Duration.ofSeconds(20)).until(() -> warningsAbout(log, endpoint), found -> !found.isEmpty());
        List<String> found = warningsAbout(log, endpoint);
        assertThat(found).as("one warning per failed post").hasSize(1);
        return found.get(0);
    }

    private static List<String> warningsAbout(LogCapture log, String endpoint) {
        return log.messages(Level.WARN).stream()
                .filter(message -> message.contains(endpoint))
                .toList();
    }

    private WebhookAlertListener listener(WebhookAlertListener.Format format) {
        URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
        return new WebhookAlertListener(url, format, Duration.ofSeconds(5));
    }

    private Received nextRequest() throws InterruptedException {
        Received request = requests.poll(10, TimeUnit.SECONDS);
        assertThat(request).as("a request within 10 s").isNotNull();
        return request;
    }

    private static void assertPostOfJson(Received request) {
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.path()).isEqualTo("/hook");
        assertThat(request.contentType()).startsWith("application/json").contains("charset=utf-8");
    }
}
