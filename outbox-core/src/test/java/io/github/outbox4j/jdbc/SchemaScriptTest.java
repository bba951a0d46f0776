package io.github.outbox4j.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.outbox4j.OutboxException;
import io.github.outbox4j.spi.StorageOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchemaScriptTest {
    private static final String SCRIPT = "test-schema.sql";

    @Test
    void splitsStatementsAndSkipsComments() {
        List<String> statements = SchemaScript.load(SchemaScriptTest.class, SCRIPT, StorageOptions.defaults())
                .statements();

        assertThat(statements).hasSize(5);
        assertThat(statements).noneMatch(statement -> statement.contains("--"));
        assertThat(statements).noneMatch(statement -> statement.endsWith(";"));
        assertThat(statements).allMatch(statement -> statement.equals(statement.strip()));
        assertThat(statements.get(0))
                .startsWith("CREATE TABLE IF NOT EXISTS msg_published (")
                .contains("CONSTRAINT msg_published_pk PRIMARY KEY (id)")
                .endsWith(")");
        assertThat(statements.get(1))
                .isEqualTo("CREATE INDEX IF NOT EXISTS msg_published_status_next_idx ON msg_published"
                        + " (status, next_attempt_at)");
        assertThat(statements.get(4))
                .as("a last statement without ';'")
                .isEqualTo("CREATE INDEX IF NOT EXISTS msg_received_expires_idx ON msg_received"
                        + " (status, next_attempt_at)");
    }

    @Test
    void renamesTablesToTheQualifiedNamesAndIndexesToTheTablePrefix() {
        StorageOptions options = StorageOptions.builder()
                .schema("shop")
                .publishedTable("order_outbox")
                .receivedTable("order_inbox")
                .build();

        List<String> statements =
                SchemaScript.load(SchemaScriptTest.class, SCRIPT, options).statements();

        assertThat(statements).noneMatch(statement -> statement.contains("msg_published"));
        assertThat(statements).noneMatch(statement -> statement.contains("msg_received"));
        assertThat(statements.get(0))
                .startsWith("CREATE TABLE IF NOT EXISTS shop.order_outbox (")
                .contains("CONSTRAINT order_outbox_pk PRIMARY KEY (id)");
        assertThat(statements.get(1))
                .isEqualTo("CREATE INDEX IF NOT EXISTS order_outbox_status_next_idx ON shop.order_outbox"
                        + " (status, next_attempt_at)");
        assertThat(statements.get(2))
                .startsWith("CREATE TABLE IF NOT EXISTS shop.order_inbox (")
                .contains("CONSTRAINT order_inbox_pk PRIMARY KEY (id, group_name)");
        assertThat(statements.get(3))
                .isEqualTo("CREATE INDEX IF NOT EXISTS order_inbox_status_next_idx ON shop.order_inbox"
                        + " (status, next_attempt_at)");
    }

    @Test
    void tableNamedLikeADefaultWithASuffixIsRenamedOnce() {
        StorageOptions options = StorageOptions.builder()
                .publishedTable("msg_published_v2")
                .receivedTable("msg_received_v2")
                .build();

        List<String> statements =
                SchemaScript.load(SchemaScriptTest.class, SCRIPT, options).statements();

        assertThat(statements.get(1))
                .isEqualTo("CREATE INDEX IF NOT EXISTS msg_published_v2_status_next_idx ON msg_published_v2"
                        + " (status, next_attempt_at)");
        assertThat(statements.get(3))
                .isEqualTo("CREATE INDEX IF NOT EXISTS msg_received_v2_status_next_idx ON msg_received_v2"
                        + " (status, next_attempt_at)");
    }

    @Test
    void missingScriptNamesTheResource() {
        assertThatThrownBy(() -> SchemaScript.load(SchemaScriptTest.class, "nope.sql", StorageOptions.defaults()))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("nope.sql");
    }
}
