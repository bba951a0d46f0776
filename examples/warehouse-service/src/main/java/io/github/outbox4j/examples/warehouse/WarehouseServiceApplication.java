package io.github.outbox4j.examples.warehouse;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;

/** The warehouse service: creates a delivery order for every paid order. */
@SpringBootApplication
public class WarehouseServiceApplication {

    /**
     * The application, configured by {@code warehouse-service.yml} rather than {@code application.yml}: the demo runs
     * the four services on one class path, where each needs a file of its own.
     */
    public static SpringApplicationBuilder application() {
        return new SpringApplicationBuilder(WarehouseServiceApplication.class)
                .properties("spring.config.name=warehouse-service");
    }

    public static void main(String[] args) {
        application().run(args);
    }
}
