package io.github.outbox4j.benchmarks;

import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.annotation.TransactionalPublish;
import io.github.outbox4j.benchmarks.Workload.OrderPaid;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.annotation.Transactional;

/**
 * The publish overhead measured the way a Spring Boot application publishes: a {@code @TransactionalPublish} method
 * writing its order row with {@code JdbcTemplate}, against a {@code @Transactional} method writing the same order row
 * and a hand-written outbox row. The starter configures everything else from {@code outbox.*} properties; the pool,
 * the workload and an observer counting acknowledgments are the run's, handed in as beans.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class SpringPublishApp {

    /** Starts the application on {@code run}'s pool, tables and topic. */
    static ConfigurableApplicationContext start(Run run, OutboxObserver observer) {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("spring.main.banner-mode", "off");
        properties.put("logging.level.root", "WARN");
        properties.put("spring.application.name", "outbox-benchmarks");
        properties.put("bench.topic", run.names().topic());
        properties.put("bench.rabbitmq-uri", run.config().rabbitMqUri());
        properties.put("outbox.storage.published-table", run.names().published());
        properties.put("outbox.storage.received-table", run.names().received());
        properties.putAll(run.stack().springProperties(run.config(), run.names()));
        return new SpringApplicationBuilder(SpringPublishApp.class)
                .web(WebApplicationType.NONE)
                .properties(properties)
                .initializers(context -> {
                    var beans = context.getBeanFactory();
                    beans.registerSingleton("dataSource", run.dataSource());
                    beans.registerSingleton("workload", run.workload());
                    beans.registerSingleton("acknowledgments", observer);
                })
                .run();
    }

    @Bean
    Payments payments(JdbcTemplate jdbc, Workload workload) {
        return new Payments(jdbc, workload);
    }

    @Bean
    HandWrittenPayments handWrittenPayments(JdbcTemplate jdbc, Workload workload) {
        return new HandWrittenPayments(jdbc, workload);
    }

    @Bean
    @ConditionalOnProperty(name = "outbox.transport", havingValue = "rabbitmq")
    com.rabbitmq.client.ConnectionFactory rabbitConnectionFactory(@Value("${bench.rabbitmq-uri}") String uri)
            throws Exception {
        com.rabbitmq.client.ConnectionFactory factory = new com.rabbitmq.client.ConnectionFactory();
        factory.setUri(uri);
        return factory;
    }

    /** The order service as a user writes it with the starter. */
    static class Payments {
        private final JdbcTemplate jdbc;
        private final Workload workload;

        Payments(JdbcTemplate jdbc, Workload workload) {
            this.jdbc = jdbc;
            this.workload = workload;
        }

        @TransactionalPublish(topic = "${bench.topic}", key = "#result.orderId()")
        public OrderPaid pay(long orderId) {
            jdbc.update(workload.insertOrderSql(), workload.orderParameters(orderId));
            return Workload.payload(orderId);
        }
    }

    /** The same transaction without the library: the outbox row written by hand. */
    static class HandWrittenPayments {
        private final JdbcTemplate jdbc;
        private final Workload workload;

        HandWrittenPayments(JdbcTemplate jdbc, Workload workload) {
            this.jdbc = jdbc;
            this.workload = workload;
        }

        @Transactional
        public void pay(long orderId) {
            jdbc.update(workload.insertOrderSql(), workload.orderParameters(orderId));
            jdbc.update(workload.insertHandWrittenSql(), workload.handWrittenParameters(orderId));
        }
    }
}
