package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/** An invalid property fails a real application's startup with Boot's failure report naming the property. */
@ExtendWith(OutputCaptureExtension.class)
class OutboxConfigurationFailureAnalyzerTest {

    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({OutboxAutoConfiguration.class, OutboxStorageAutoConfiguration.class})
    @Import(StarterTestSupport.Infrastructure.class)
    static class Application {}

    @Test
    void theStartupReportNamesThePropertyAndTheFix(CapturedOutput output) {
        assertThatThrownBy(() -> new SpringApplicationBuilder(Application.class)
                        .web(WebApplicationType.NONE)
                        .properties("outbox.transport=in-memory", "outbox.retry.first-delay=-4m")
                        .run())
                .hasRootCauseMessage("outbox.retry.first-delay: must not be negative, was PT-4M");
        assertThat(output)
                .contains("APPLICATION FAILED TO START")
                .contains("Outbox4j cannot start: the setting 'outbox.retry.first-delay' is invalid.")
                .contains("Correct 'outbox.retry.first-delay' in your application's configuration");
    }
}
