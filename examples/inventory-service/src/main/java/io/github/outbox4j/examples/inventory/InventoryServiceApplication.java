package io.github.outbox4j.examples.inventory;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;

/** The inventory service: deducts the stock of every paid order. */
@SpringBootApplication
public class InventoryServiceApplication {

    /**
     * The application, configured by {@code inventory-service.yml} rather than {@code application.yml}: the demo runs
     * the four services on one class path, where each needs a file of its own.
     */
    public static SpringApplicationBuilder application() {
        return new SpringApplicationBuilder(InventoryServiceApplication.class)
                .properties("spring.config.name=inventory-service");
    }

    public static void main(String[] args) {
        application().run(args);
    }
}
