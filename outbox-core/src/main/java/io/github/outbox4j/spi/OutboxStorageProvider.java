package io.github.outbox4j.spi;

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
}
