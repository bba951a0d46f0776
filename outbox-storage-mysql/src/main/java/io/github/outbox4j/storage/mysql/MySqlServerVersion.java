package io.github.outbox4j.storage.mysql;

import io.github.outbox4j.OutboxException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server's product and version, read from {@link java.sql.DatabaseMetaData#getDatabaseProductVersion()}: what
 * decides whether {@code FOR UPDATE SKIP LOCKED} is there (MySQL 8.0.1, MariaDB 10.6).
 */
record MySqlServerVersion(boolean mariaDb, int major, int minor, int patch) {
    private static final Pattern NUMBERS = Pattern.compile("^(\\d+)\\.(\\d+)(?:\\.(\\d+))?");

    // MariaDB 10.x servers announce themselves as "5.5.5-10.x.y-MariaDB" so that old MySQL clients accept them;
    // MySQL Connector/J passes that on as is, MariaDB's own driver strips the prefix
    private static final String MARIADB_COMPATIBILITY_PREFIX = "5.5.5-";

    /**
     * Parses e.g. {@code 8.0.36}, {@code 5.7.44-log}, {@code 10.11.19-MariaDB-0+deb12u1} or
     * {@code 5.5.5-10.11.19-MariaDB}.
     *
     * @throws OutboxException if no version can be read from {@code productVersion}
     */
    static MySqlServerVersion parse(String productVersion) {
        String version = productVersion == null ? "" : productVersion.strip();
        boolean mariaDb = version.toLowerCase(Locale.ROOT).contains("mariadb");
        if (mariaDb && version.startsWith(MARIADB_COMPATIBILITY_PREFIX)) {
            version = version.substring(MARIADB_COMPATIBILITY_PREFIX.length());
        }
        Matcher matcher = NUMBERS.matcher(version);
        if (!matcher.find()) {
            throw new OutboxException("Cannot read the server version from '" + productVersion + "'");
        }
        return new MySqlServerVersion(
                mariaDb,
                Integer.parseInt(matcher.group(1)),
                Integer.parseInt(matcher.group(2)),
                matcher.group(3) == null ? 0 : Integer.parseInt(matcher.group(3)));
    }

    /** Whether the server has {@code SELECT ... FOR UPDATE SKIP LOCKED}. */
    boolean supportsSkipLocked() {
        return mariaDb ? isAtLeast(10, 6, 0) : isAtLeast(8, 0, 1);
    }

    /** The oldest supported version of this product, for error messages. */
    String minimum() {
        return mariaDb ? "MariaDB 10.6" : "MySQL 8.0.1";
    }

    private boolean isAtLeast(int major, int minor, int patch) {
        if (this.major != major) {
            return this.major > major;
        }
        if (this.minor != minor) {
            return this.minor > minor;
        }
        return this.patch >= patch;
    }

    @Override
    public String toString() {
        return (mariaDb ? "MariaDB " : "MySQL ") + major + "." + minor + "." + patch;
    }
}
