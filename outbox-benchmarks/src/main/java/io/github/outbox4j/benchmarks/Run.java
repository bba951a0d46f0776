package io.github.outbox4j.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.spi.OutboxStorageProvider;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * One run's resources on one stack: a connection pool, the run's own tables (outbox, inbox, business) and broker
 * topic or exchange. {@link #close()} drops and deletes all of them, so runs do not affect each other.
 */
final class Run implements AutoCloseable {
    private final BenchConfig config;
    private final Stack stack;
    private final RunNames names = RunNames.unique();
    private final HikariDataSource dataSource;
    private final Workload workload;
    private final List<String> topics = new ArrayList<>();
    private AutoCloseable sinkConsumer = () -> {};

    private Run(BenchConfig config, Stack stack) {
        this.config = config;
        this.stack = stack;
        this.dataSource = pool(stack.jdbcUrl(config), config.clients() + 8);
        this.workload = new Workload(stack, names);
    }

    /** Opens a pool and creates the run's tables. */
    static Run open(BenchConfig config, Stack stack) {
        Run run = new Run(config, stack);
        try {
            OutboxStorageProvider.detect(run.dataSource, run.names.storageOptions(), "auto")
                    .initialize();
            run.execute(stack.ordersTableDdl(run.names.orders()));
            stack.prepareTopic(config, run.names, run.names.topic(), false);
            run.sinkConsumer = stack.consumeSink(config, run.names);
            return run;
        } catch (RuntimeException e) {
            run.close();
            throw e;
        }
    }

    BenchConfig config() {
        return config;
    }

    Stack stack() {
        return stack;
    }

    RunNames names() {
        return names;
    }

    HikariDataSource dataSource() {
        return dataSource;
    }

    Workload workload() {
        return workload;
    }

    /** A builder for an outbox on this run's tables and a new transport of its own. */
    Outbox.Builder outbox(MeasuredTransport transport) {
        return Outbox.builder()
                .dataSource(dataSource)
                .storageOptions(names.storageOptions())
                .transport(transport);
    }

    /** The same, with the storage's calls timed. */
    Outbox.Builder outbox(MeasuredTransport transport, TimedStorage storage) {
        return outbox(transport).storage(storage);
    }

    /** The storage the engine would detect for this run's tables, timed. */
    TimedStorage timedStorage() {
        return new TimedStorage(OutboxStorageProvider.detect(dataSource, names.storageOptions(), "auto"));
    }

    /**
     * A topic of its own for one measurement, so that its consumers do not first read what earlier measurements on
     * this run's tables published; deleted with the run. {@code consumed}: a consumer group of the run will take
     * every message sent to it, from the first.
     */
    String newTopic(boolean consumed) {
        String topic = names.topic() + "." + (topics.size() + 1);
        stack.prepareTopic(config, names, topic, consumed);
        topics.add(topic);
        return topic;
    }

    MeasuredTransport transport() {
        return new MeasuredTransport(stack.transport(config, names));
    }

    void execute(String sql) {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement()) {
            connection.setAutoCommit(true);
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("Failed: " + sql + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            for (String table : new String[] {names.published(), names.received(), names.orders()}) {
                execute("DROP TABLE IF EXISTS " + table);
            }
        } finally {
            dataSource.close();
            try {
                sinkConsumer.close();
            } catch (Exception e) {
                Log.detail("could not stop the sink's consumer: " + e);
            }
            topics.add(names.topic());
            stack.deleteBrokerResources(config, names, topics);
        }
    }

    static HikariDataSource pool(String url, int size) {
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("bench");
        hikari.setJdbcUrl(url);
        hikari.setMaximumPoolSize(size);
        hikari.setMinimumIdle(size);
        hikari.setConnectionTimeout(30_000);
        return new HikariDataSource(hikari);
    }
}
