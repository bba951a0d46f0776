package io.github.outbox4j.examples.demo;

import io.github.outbox4j.examples.inventory.InventoryServiceApplication;
import io.github.outbox4j.examples.membership.MembershipServiceApplication;
import io.github.outbox4j.examples.order.OrderServiceApplication;
import io.github.outbox4j.examples.warehouse.WarehouseServiceApplication;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The four services of the example running in this JVM: each a Spring Boot application of its own (its own context,
 * web server, database, consumer group and outbox), exactly as it would run alone; sharing the JVM only saves the
 * machine three JVMs.
 */
public final class Shop implements AutoCloseable {
    public static final String ORDER = "order-service";
    public static final String INVENTORY = "inventory-service";
    public static final String MEMBERSHIP = "membership-service";
    public static final String WAREHOUSE = "warehouse-service";

    private record Service(String name, String database, Supplier<SpringApplicationBuilder> application) {}

    private static final List<Service> SERVICES = List.of(
            new Service(ORDER, "orders", OrderServiceApplication::application),
            new Service(INVENTORY, "inventory", InventoryServiceApplication::application),
            new Service(MEMBERSHIP, "membership", MembershipServiceApplication::application),
            new Service(WAREHOUSE, "warehouse", WarehouseServiceApplication::application));

    private static final Logger log = LoggerFactory.getLogger(Shop.class);

    /** Defaults that arguments may override: one log for four services, whose own lines name them. */
    private static final String[] LOG_DEFAULTS = {
        "spring.main.banner-mode=off",
        "spring.main.log-startup-info=false",
        "logging.include-application-name=false",
        // the Kafka clients print their whole configuration at INFO, four services times three clients
        "logging.level.org.apache.kafka=WARN",
        "logging.level.io.zonky=WARN"
    };

    private final Backends backends;
    private final String databaseSuffix;
    private final Map<String, ConfigurableApplicationContext> running = new LinkedHashMap<>();

    private Shop(Backends backends, String databaseSuffix) {
        this.backends = backends;
        this.databaseSuffix = databaseSuffix;
    }

    /**
     * Starts the services on {@code backends}, each in its database (created if missing) named {@code orders},
     * {@code inventory}, {@code membership}, {@code warehouse}, followed by {@code databaseSuffix}.
     * {@code arguments} are given to every service, like command-line arguments: {@code --key=value} overrides its
     * configuration.
     */
    public static Shop start(Backends backends, String databaseSuffix, String... arguments) {
        Shop shop = new Shop(backends, databaseSuffix);
        try {
            for (Service service : SERVICES) {
                shop.start(service, arguments);
            }
            return shop;
        } catch (RuntimeException e) {
            shop.close();
            throw e;
        }
    }

    private void start(Service service, String... arguments) {
        String database = service.database() + databaseSuffix;
        Databases.createIfMissing(backends.databaseUrl(), database);
        long start = System.nanoTime();
        ConfigurableApplicationContext context = service.application()
                .get()
                .properties(LOG_DEFAULTS)
                // the caller closes the services, before the database and broker they use
                .registerShutdownHook(false)
                .run(Stream.concat(backends.serviceArguments(database).stream(), Stream.of(arguments))
                        .toArray(String[]::new));
        running.put(service.name(), context);
        log.info(
                "{} started in {} ms on port {}, database {}",
                service.name(),
                Duration.ofNanos(System.nanoTime() - start).toMillis(),
                port(service.name()),
                database);
    }

    /** A bean of a service, e.g. {@code bean(ORDER, PaymentService.class)}. */
    public <T> T bean(String service, Class<T> type) {
        return context(service).getBean(type);
    }

    /** The port of a service's web server. */
    public int port(String service) {
        return context(service).getEnvironment().getRequiredProperty("local.server.port", Integer.class);
    }

    /** A number from a service's own database. */
    public long count(String service, String sql) {
        return bean(service, JdbcClient.class).sql(sql).query(Long.class).single();
    }

    /** The names of the services' databases. */
    public List<String> databases() {
        return SERVICES.stream().map(s -> s.database() + databaseSuffix).toList();
    }

    private ConfigurableApplicationContext context(String service) {
        ConfigurableApplicationContext context = running.get(service);
        if (context == null) {
            throw new IllegalArgumentException("No running service " + service + "; running: " + running.keySet());
        }
        return context;
    }

    /** Stops the services, the last started first. */
    @Override
    public void close() {
        List<ConfigurableApplicationContext> contexts = new ArrayList<>(running.values());
        running.clear();
        for (int i = contexts.size() - 1; i >= 0; i--) {
            contexts.get(i).close();
        }
    }
}
