package io.github.outbox4j.spring.boot.alert;

import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxAlertListener;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.mail.MailSender;
import org.springframework.mail.SimpleMailMessage;

/**
 * E-mails each alert through the application's {@link MailSender}. Sending happens on one daemon thread ({@code
 * outbox-alert-mail}) so that a slow mail server never holds up the engine; at most 100 alerts wait, further ones
 * are only logged (the logging listener has them anyway). A failed send is logged. Thread-safe.
 */
public final class MailAlertListener implements OutboxAlertListener, DisposableBean {
    private static final Logger log = LoggerFactory.getLogger(MailAlertListener.class);

    private final MailSender mailSender;
    private final List<String> to;
    private final @Nullable String from;
    private final String subjectPrefix;
    private final ThreadPoolExecutor executor;

    public MailAlertListener(MailSender mailSender, List<String> to, @Nullable String from, String subjectPrefix) {
        this.mailSender = Objects.requireNonNull(mailSender, "mailSender");
        this.to = List.copyOf(to);
        if (this.to.isEmpty()) {
            throw new IllegalArgumentException("outbox.alert.mail.to names no recipient");
        }
        this.from = from;
        this.subjectPrefix = Objects.requireNonNull(subjectPrefix, "subjectPrefix");
        this.executor =
                new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(100), runnable -> {
                    Thread thread = new Thread(runnable, "outbox-alert-mail");
                    thread.setDaemon(true);
                    return thread;
                });
    }

    @Override
    public void onExhausted(OutboxAlert alert) {
        SimpleMailMessage message = message(alert);
        try {
            executor.execute(() -> send(message, alert));
        } catch (RejectedExecutionException e) {
            log.warn("Too many alert e-mails waiting; not e-mailed: {}", alert.summary());
        }
    }

    SimpleMailMessage message(OutboxAlert alert) {
        SimpleMailMessage message = new SimpleMailMessage();
        message.setTo(to.toArray(String[]::new));
        if (from != null && !from.isBlank()) {
            message.setFrom(from);
        }
        String side = alert.group() == null ? "" : " (group " + alert.group() + ")";
        message.setSubject(subjectPrefix + " " + alert.count() + " FAILED message(s) on topic " + alert.topic() + side);
        message.setText(alert.summary() + "\n\nKind: " + alert.kind() + "\nTopic: " + alert.topic() + "\nGroup: "
                + alert.group() + "\nMessages: " + alert.count() + "\nSample ids: " + alert.messageIds()
                + "\nRaised at: " + alert.raisedAt() + "\nLast error: " + alert.lastError()
                + "\n\nRequeue a message once its cause is fixed: POST /actuator/outbox/{kind}/{id}.");
        return message;
    }

    private void send(SimpleMailMessage message, OutboxAlert alert) {
        try {
            mailSender.send(message);
        } catch (RuntimeException e) {
            log.warn("Sending the alert e-mail to {} failed: {}; the alert was: {}", to, e.toString(), alert.summary());
        }
    }

    @Override
    public void destroy() {
        executor.shutdown();
    }
}
