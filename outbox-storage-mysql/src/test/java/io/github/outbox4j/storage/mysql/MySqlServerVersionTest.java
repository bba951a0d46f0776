package io.github.outbox4j.storage.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.outbox4j.OutboxException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MySqlServerVersionTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            # reported product version          | product and version | SKIP LOCKED
            5.7.44-log                          | MySQL 5.7.44        | false
            8.0.0-dmr                           | MySQL 8.0.0         | false
            8.0.1                               | MySQL 8.0.1         | true
            8.0.36                              | MySQL 8.0.36        | true
            8.0.36-0ubuntu0.22.04.1             | MySQL 8.0.36        | true
            9.1.0                               | MySQL 9.1.0         | true
            10.5.27-MariaDB                     | MariaDB 10.5.27     | false
            5.5.5-10.5.27-MariaDB-1:10.5.27     | MariaDB 10.5.27     | false
            10.6.0-MariaDB                      | MariaDB 10.6.0      | true
            10.6.21-MariaDB-log                 | MariaDB 10.6.21     | true
            5.5.5-10.11.19-MariaDB              | MariaDB 10.11.19    | true
            10.11.19-MariaDB-0+deb12u1          | MariaDB 10.11.19    | true
            11.4.5-MariaDB-ubu2404              | MariaDB 11.4.5      | true
            """)
    void readsProductVersionAndSkipLockedSupport(String reported, String parsed, boolean skipLocked) {
        MySqlServerVersion version = MySqlServerVersion.parse(reported);

        assertThat(version).hasToString(parsed);
        assertThat(version.supportsSkipLocked()).isEqualTo(skipLocked);
    }

    @ParameterizedTest
    @ValueSource(strings = {"5.7.44", "10.5.27-MariaDB"})
    void namesTheMinimumOfTheProductFound(String reported) {
        MySqlServerVersion version = MySqlServerVersion.parse(reported);

        assertThat(version.minimum()).isEqualTo(version.mariaDb() ? "MariaDB 10.6" : "MySQL 8.0.1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "MariaDB", "unknown-8.0"})
    void anUnreadableVersionIsReported(String reported) {
        assertThatThrownBy(() -> MySqlServerVersion.parse(reported))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("'" + reported + "'");
    }
}
