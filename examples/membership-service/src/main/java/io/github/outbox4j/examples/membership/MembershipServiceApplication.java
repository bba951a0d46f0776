package io.github.outbox4j.examples.membership;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;

/** The membership service: credits the member with points for every paid order. */
@SpringBootApplication
public class MembershipServiceApplication {

    /**
     * The application, configured by {@code membership-service.yml} rather than {@code application.yml}: the demo runs
     * the four services on one class path, where each needs a file of its own.
     */
    public static SpringApplicationBuilder application() {
        return new SpringApplicationBuilder(MembershipServiceApplication.class)
                .properties("spring.config.name=membership-service");
    }

    public static void main(String[] args) {
        application().run(args);
    }
}
