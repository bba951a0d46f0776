package io.github.outbox4j.spring.boot.alert;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.alert.LoggingAlertListener;
import io.github.outbox4j.alert.WebhookAlertListener;
import io.github.outbox4j.spring.boot.OutboxAutoConfiguration;
import io.github.outbox4j.spring.boot.OutboxProperties;
import java.util.List;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.mail.MailSender;

/**
 * The alerts facet. The outbox tells every {@link io.github.outbox4j.OutboxAlertListener} bean about FAILED
 * messages; this facet adds: a {@link LoggingAlertListener} (ERROR on the logger {@code io.github.outbox4j.alert}),
 * an {@link OutboxExhaustedEvent} in the application context for each alert, a webhook when {@code
 * outbox.alert.webhook.url} is set, and e-mail through the application's {@link MailSender} when there is one and
 * {@code outbox.alert.mail.to} is set.
 */
@AutoConfiguration(
        after = OutboxAutoConfiguration.class,
        afterName = "org.springframework.boot.mail.autoconfigure.MailSenderAutoConfiguration")
@ConditionalOnBean(Outbox.class)
public final class OutboxAlertAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    LoggingAlertListener outboxLoggingAlertListener() {
        return new LoggingAlertListener();
    }

    @Bean
    ApplicationEventAlertListener outboxApplicationEventAlertListener(ApplicationEventPublisher publisher) {
        return new ApplicationEventAlertListener(publisher);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnProperty("outbox.alert.webhook.url")
    WebhookAlertListener outboxWebhookAlertListener(OutboxProperties properties) {
        OutboxProperties.Webhook webhook = properties.alert().webhook();
        return new WebhookAlertListener(webhook.url(), webhook.format(), webhook.timeout());
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MailSender.class)
    @ConditionalOnBean(MailSender.class)
    @Conditional(OnMailRecipientsCondition.class)
    static class MailAlertConfiguration {

        @Bean
        @ConditionalOnMissingBean
        MailAlertListener outboxMailAlertListener(OutboxProperties properties, MailSender mailSender) {
            OutboxProperties.Mail mail = properties.alert().mail();
            return new MailAlertListener(mailSender, mail.to(), mail.from(), mail.subjectPrefix());
        }
    }

    /** Matches when {@code outbox.alert.mail.to} names at least one recipient (as a list or comma-separated). */
    static final class OnMailRecipientsCondition extends SpringBootCondition {
        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            List<String> to = Binder.get(context.getEnvironment())
                    .bind("outbox.alert.mail.to", Bindable.listOf(String.class))
                    .orElse(List.of());
            return to.stream().anyMatch(address -> !address.isBlank())
                    ? ConditionOutcome.match("outbox.alert.mail.to is " + to)
                    : ConditionOutcome.noMatch("outbox.alert.mail.to is not set");
        }
    }
}
