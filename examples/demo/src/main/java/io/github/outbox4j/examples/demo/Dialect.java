package io.github.outbox4j.examples.demo;

import java.util.Locale;

/** The SQL dialects the services' business tables come in: PostgreSQL's, and MySQL's for MySQL and MariaDB. */
enum Dialect {
    POSTGRESQL,
    MYSQL;

    /** The dialect of the server a JDBC URL points to. */
    static Dialect of(String jdbcUrl) {
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        if (jdbcUrl.startsWith("jdbc:mysql:")) {
            return MYSQL;
        }
        throw new IllegalArgumentException(
                "Not a PostgreSQL (jdbc:postgresql://...) or MySQL/MariaDB (jdbc:mysql://...) URL: " + jdbcUrl);
    }

    /** The value of {@code spring.sql.init.platform}, which picks a service's {@code db/<platform>/<name>.sql}. */
    String platform() {
        return name().toLowerCase(Locale.ROOT);
    }
}
