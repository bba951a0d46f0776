package io.github.outbox4j.spi;

import io.github.outbox4j.OutboxConfigurationException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Table names, schema and schema initialization for a storage. Names are validated as plain SQL identifiers
 * when set, so nothing but a letter, digit or underscore ever reaches SQL. Immutable.
 */
public final class StorageOptions {
    public static final String DEFAULT_PUBLISHED_TABLE = "msg_published";
    public static final String DEFAULT_RECEIVED_TABLE = "msg_received";

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    private final String schema;
    private final String publishedTable;
    private final String receivedTable;
    private final boolean initializeSchema;

    private StorageOptions(Builder builder) {
        this.schema = builder.schema;
        this.publishedTable = builder.publishedTable;
        this.receivedTable = builder.receivedTable;
        this.initializeSchema = builder.initializeSchema;
    }

    public static StorageOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The schema (PostgreSQL) or database (MySQL) holding the tables; empty for the connection's default. */
    public Optional<String> schema() {
        return Optional.ofNullable(schema);
    }

    public String publishedTable() {
        return publishedTable;
    }

    public String receivedTable() {
        return receivedTable;
    }

    /** Whether the tables are created at start if missing. */
    public boolean initializeSchema() {
        return initializeSchema;
    }

    /** {@code schema.table} or {@code table}, ready to be put in SQL. */
    public String qualified(String table) {
        return schema == null ? table : schema + "." + table;
    }

    /** Builds {@link StorageOptions}; each setter validates and names its property. */
    public static final class Builder {
        private String schema;
        private String publishedTable = DEFAULT_PUBLISHED_TABLE;
        private String receivedTable = DEFAULT_RECEIVED_TABLE;
        private boolean initializeSchema = true;

        private Builder() {}

        public Builder schema(String schema) {
            this.schema = schema == null || schema.isEmpty() ? null : identifier("outbox.storage.schema", schema);
            return this;
        }

        public Builder publishedTable(String table) {
            this.publishedTable = identifier("outbox.storage.published-table", table);
            return this;
        }

        public Builder receivedTable(String table) {
            this.receivedTable = identifier("outbox.storage.received-table", table);
            return this;
        }

        public Builder initializeSchema(boolean initializeSchema) {
            this.initializeSchema = initializeSchema;
            return this;
        }

        public StorageOptions build() {
            if (publishedTable.equalsIgnoreCase(receivedTable)) {
                throw new OutboxConfigurationException(
                        "outbox.storage.received-table",
                        "must differ from outbox.storage.published-table, both are '" + publishedTable + "'");
            }
            return new StorageOptions(this);
        }

        private static String identifier(String property, String value) {
            if (value == null || !IDENTIFIER.matcher(value).matches()) {
                throw new OutboxConfigurationException(
                        property,
                        "'" + value + "' is not a valid SQL identifier: use letters, digits and '_', starting with a"
                                + " letter or '_', at most 63 characters");
            }
            return value;
        }
    }
}
