package io.github.outbox4j.spring.jpa;

import io.github.outbox4j.testkit.KafkaBroker;
import io.github.outbox4j.testkit.TestServices;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** On PostgreSQL and Kafka (a broker of the test kit unless OUTBOX_TEST_KAFKA_BOOTSTRAP is set). */
class PostgresKafkaJpaIT extends AbstractJpaIT {

    @BeforeAll
    static void services() {
        TestServices.postgresUrl();
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        jpaProperties(registry);
        registry.add("spring.datasource.url", TestServices::postgresUrl);
        registry.add("spring.kafka.bootstrap-servers", KafkaBroker::sharedBootstrapServers);
        registry.add("outbox.transport", () -> "kafka");
    }
}
