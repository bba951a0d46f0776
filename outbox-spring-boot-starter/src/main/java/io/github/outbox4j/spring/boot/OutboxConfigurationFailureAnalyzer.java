package io.github.outbox4j.spring.boot;

import io.github.outbox4j.OutboxConfigurationException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns an {@link OutboxConfigurationException} that failed the startup into Spring Boot's "APPLICATION FAILED TO
 * START" report: what is wrong with which {@code outbox.*} (or {@code spring.*}) property, and what to do.
 */
final class OutboxConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<OutboxConfigurationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, OutboxConfigurationException cause) {
        String property = cause.property();
        String description = "Outbox4j cannot start: the setting '" + property + "' is invalid."
                + System.lineSeparator() + System.lineSeparator() + "    " + cause.getMessage();
        String action = "Correct '" + property + "' in your application's configuration (application.yml or"
                + " application.properties, environment variables, command-line arguments). Every outbox.* property,"
                + " its unit and default are listed in docs/configuration.md.";
        return new FailureAnalysis(description, action, cause);
    }
}
