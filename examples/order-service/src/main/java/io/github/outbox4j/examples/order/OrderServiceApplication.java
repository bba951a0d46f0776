package io.github.outbox4j.examples.order;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;

/** The order service: places orders and takes their payments; a payment publishes {@code order.paid}. */
@SpringBootApplication
public class OrderServiceApplication {

    /**
     * The application, configured by {@code order-service.yml} rather than {@code application.yml}: the demo runs
     * the four services on one class path, where each needs a file of its own.
     */
    public static SpringApplicationBuilder application() {
        return new SpringApplicationBuilder(OrderServiceApplication.class)
                .properties("spring.config.name=order-service");
    }

    public static void main(String[] args) {
        application().run(args);
    }
}
