package io.github.outbox4j.spring.boot;

import io.github.outbox4j.testkit.KafkaBroker;
import io.github.outbox4j.testkit.TestServices;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The scenario on PostgreSQL and Kafka (a broker of the test kit unless OUTBOX_TEST_KAFKA_BOOTSTRAP is set). */
class PostgresKafkaScenarioIT extends AbstractScenarioIT {

    @BeforeAll
    static void services() {
        TestServices.postgresUrl();
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        scenarioProperties(registry);
        registry.add("spring.datasource.url", TestServices::postgresUrl);
        registry.add("spring.kafka.bootstrap-servers", KafkaBroker::sharedBootstrapServers);
        registry.add("outbox.transport", () -> "kafka");
        registry.add("outbox.kafka.create-topics.partitions", () -> "3");
    }
}
