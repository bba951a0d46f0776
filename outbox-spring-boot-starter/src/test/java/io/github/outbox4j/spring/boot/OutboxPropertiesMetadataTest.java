package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.boot.configurationmetadata.ConfigurationMetadataProperty;
import org.springframework.boot.configurationmetadata.ConfigurationMetadataRepository;
import org.springframework.boot.configurationmetadata.ConfigurationMetadataRepositoryJsonBuilder;

/**
 * The metadata the configuration processor generated from {@link OutboxProperties} documents every key of
 * docs/configuration.md, with the same default, and every key of ours has a description and a default (except the
 * few whose absence means "off").
 */
class OutboxPropertiesMetadataTest {
    /** Keys without a default value: unset means "not used" or "detect". */
    private static final Set<String> NO_DEFAULT = Set.of(
            "outbox.transport",
            "outbox.alert.webhook.url",
            "outbox.alert.mail.from",
            "outbox.alert.mail.to",
            "outbox.kafka.create-topics.partitions",
            "outbox.kafka.producer",
            "outbox.kafka.consumer",
            "outbox.rabbitmq.queue-arguments",
            "outbox.rabbitmq.recovery-interval");

    private static final Pattern DOC_ROW = Pattern.compile("^\\| `(outbox\\.[a-z0-9.-]+)` \\|.*\\| ([^|]+) \\|$");

    @Test
    void everyKeyHasADescriptionAndADefault() throws IOException {
        Map<String, ConfigurationMetadataProperty> properties = metadata();
        assertThat(properties).hasSizeGreaterThan(40);
        properties.forEach((name, property) -> {
            assertThat(property.getDescription()).as(name).isNotBlank();
            assertThat(property.getDescription())
                    .as(name + " reads as a sentence")
                    .matches("^[A-Z].*\\.$");
            assertThat(property.getDescription()).as(name).doesNotContain("{@");
            if (!NO_DEFAULT.contains(name)) {
                assertThat(property.getDefaultValue())
                        .as(name + " has a default")
                        .isNotNull();
            }
        });
        assertThat(properties).containsKeys(NO_DEFAULT.toArray(String[]::new));
    }

    @Test
    void everyKeyOfDocsConfigurationIsBoundWithItsDocumentedDefault() throws IOException {
        Map<String, ConfigurationMetadataProperty> properties = metadata();
        Map<String, String> documented = documentedDefaults();
        assertThat(documented).hasSizeGreaterThan(25);
        documented.forEach((key, documentedDefault) -> {
            assertThat(properties).as("docs/configuration.md lists " + key).containsKey(key);
            Object actual = properties.get(key).getDefaultValue();
            assertThat(normalize(String.valueOf(actual))).as(key).isEqualTo(normalize(documentedDefault));
        });
    }

    private static String normalize(String value) {
        String text = value.strip().replace("`", "");
        if (text.equals("empty") || text.equals("null")) {
            return "";
        }
        try {
            return new BigDecimal(text).stripTrailingZeros().toPlainString();
        } catch (NumberFormatException e) {
            return text.toLowerCase();
        }
    }

    private static Map<String, String> documentedDefaults() throws IOException {
        Path docs = Path.of("..", "docs", "configuration.md");
        Map<String, String> defaults = new LinkedHashMap<>();
        for (String line : Files.readAllLines(docs, StandardCharsets.UTF_8)) {
            Matcher row = DOC_ROW.matcher(line.strip());
            if (row.matches()) {
                defaults.put(row.group(1), row.group(2));
            }
        }
        return defaults;
    }

    static Map<String, ConfigurationMetadataProperty> metadata() throws IOException {
        for (URL url : Collections.list(OutboxPropertiesMetadataTest.class
                .getClassLoader()
                .getResources("META-INF/spring-configuration-metadata.json"))) {
            try (InputStream in = url.openStream()) {
                ConfigurationMetadataRepository repository = ConfigurationMetadataRepositoryJsonBuilder.create()
                        .withJsonResource(in)
                        .build();
                if (repository.getAllGroups().containsKey("outbox.retry")) {
                    return repository.getAllProperties();
                }
            }
        }
        throw new AssertionError("No spring-configuration-metadata.json with the outbox.* keys on the class path");
    }
}
