package io.github.outbox4j.spi;

import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.OutboxException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import javax.sql.DataSource;

/**
 * Creates an {@link OutboxStorage} for one family of databases. Storage modules register theirs through
 * {@link java.util.ServiceLoader}, so that {@code Outbox.builder().dataSource(ds)} picks the right one from
 * the database the {@link DataSource} connects to.
 */
public interface OutboxStorageProvider {

    /** The dialect name users may set in {@code outbox.storage.dialect}, e.g. {@code postgresql}. */
    String dialect();

    /** Whether this provider serves a database reporting this JDBC product name. */
    boolean supports(String databaseProductName);

    OutboxStorage create(DataSource dataSource, StorageOptions options);

    /**
     * The storage for {@code dataSource}: with dialect {@code auto}, the first provider on the class path
     * that supports the database the data source connects to; otherwise the provider of that dialect.
     *
     * @throws OutboxConfigurationException naming {@code outbox.storage.dialect} when no provider fits
     */
    static OutboxStorage detect(DataSource dataSource, StorageOptions options, String dialect) {
        List<OutboxStorageProvider> providers = new ArrayList<>();
        ServiceLoader.load(OutboxStorageProvider.class, OutboxStorageProvider.class.getClassLoader())
                .forEach(providers::add);
        List<String> dialects =
                providers.stream().map(OutboxStorageProvider::dialect).toList();
        if (!"auto".equalsIgnoreCase(dialect)) {
            return providers.stream()
                    .filter(provider -> provider.dialect().equalsIgnoreCase(dialect))
                    .findFirst()
                    .orElseThrow(() -> new OutboxConfigurationException(
                            "outbox.storage.dialect",
                            "unknown dialect '" + dialect + "'; available on the class path: " + dialects
                                    + " (add outbox-storage-postgres or outbox-storage-mysql)"))
                    .create(dataSource, options);
        }
        if (providers.isEmpty()) {
            throw new OutboxConfigurationException(
                    "outbox.storage.dialect",
                    "no storage module on the class path: add outbox-storage-postgres or outbox-storage-mysql");
        }
        String product;
        try (Connection connection = dataSource.getConnection()) {
            product = connection.getMetaData().getDatabaseProductName();
        } catch (SQLException e) {
            throw new OutboxException("Cannot connect to the database to detect its dialect: " + e.getMessage(), e);
        }
        return providers.stream()
                .filter(provider -> provider.supports(product))
                .findFirst()
                .orElseThrow(() -> new OutboxConfigurationException(
                        "outbox.storage.dialect",
                        "no storage on the class path supports the database '" + product + "' (storages found: "
                                + dialects + "); add outbox-storage-postgres or outbox-storage-mysql"))
                .create(dataSource, options);
    }
}
