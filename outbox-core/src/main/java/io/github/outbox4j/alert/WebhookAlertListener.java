package io.github.outbox4j.alert;

import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxAlertListener;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Posts each alert as JSON to a URL: a chat robot (DingTalk, WeCom, Slack) or any HTTP endpoint. The post
 * is asynchronous, so a slow webhook never holds up the engine; a failed post is logged. Thread-safe.
 */
public final class WebhookAlertListener implements OutboxAlertListener {
    private static final Logger log = LoggerFactory.getLogger(WebhookAlertListener.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** The shape of the JSON body. */
    public enum Format {
        /** Every field of the alert: {@code kind, topic, group, count, messageIds, lastError, raisedAt, text}. */
        JSON,
        /** {@code {"text": "..."}}: Slack incoming webhooks. */
        SLACK,
        /** {@code {"msgtype": "text", "text": {"content": "..."}}}: DingTalk and WeCom robots. */
        TEXT_MESSAGE
    }

    private final URI url;
    private final Format format;
    private final Duration timeout;
    private final HttpClient client;

    public WebhookAlertListener(URI url, Format format, Duration timeout) {
        this.url = Objects.requireNonNull(url, "url");
        this.format = Objects.requireNonNull(format, "format");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.client = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    @Override
    public void onExhausted(OutboxAlert alert) {
        HttpRequest request = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString(body(alert)))
                .build();
        client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
            if (error != null) {
                log.warn("Alert webhook {} failed: {}; the alert was: {}", url, error.toString(), alert.summary());
            } else if (response.statusCode() / 100 != 2) {
                log.warn(
                        "Alert webhook {} answered {}: {}; the alert was: {}",
                        url,
                        response.statusCode(),
                        response.body(),
                        alert.summary());
            }
        });
    }

    String body(OutboxAlert alert) {
        String text = "[Outbox4j] " + alert.summary();
        Object body = switch (format) {
            case SLACK -> Map.of("text", text);
            case TEXT_MESSAGE -> Map.of("msgtype", "text", "text", Map.of("content", text));
            case JSON -> {
                Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("kind", alert.kind().name());
                fields.put("topic", alert.topic());
                fields.put("group", alert.group());
                fields.put("count", alert.count());
                fields.put("messageIds", alert.messageIds());
                fields.put("lastError", alert.lastError());
                fields.put("raisedAt", alert.raisedAt().toString());
                fields.put("text", text);
                yield fields;
            }
        };
        return JSON.writeValueAsString(body);
    }
}
