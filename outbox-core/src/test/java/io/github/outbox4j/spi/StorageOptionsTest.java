package io.github.outbox4j.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.outbox4j.OutboxConfigurationException;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class StorageOptionsTest {
    private static final String LONGEST = "t" + "_".repeat(62);
    private static final String TOO_LONG = "t" + "_".repeat(63);

    @Test
    void defaultsAreTheDesignTables() {
        StorageOptions options = StorageOptions.defaults();

        assertThat(options.publishedTable()).isEqualTo("msg_published");
        assertThat(options.receivedTable()).isEqualTo("msg_received");
        assertThat(options.schema()).isEmpty();
        assertThat(options.initializeSchema()).isTrue();
        assertThat(options.qualified(options.publishedTable())).isEqualTo("msg_published");
    }

    @Test
    void validNamesAreKeptAndQualified() {
        StorageOptions options = StorageOptions.builder()
                .schema("billing")
                .publishedTable("Orders_Outbox")
                .receivedTable("_orders_inbox2")
                .initializeSchema(false)
                .build();

        assertThat(options.schema()).contains("billing");
        assertThat(options.qualified(options.publishedTable())).isEqualTo("billing.Orders_Outbox");
        assertThat(options.qualified(options.receivedTable())).isEqualTo("billing._orders_inbox2");
        assertThat(options.initializeSchema()).isFalse();
        assertThat(StorageOptions.builder().publishedTable(LONGEST).build().publishedTable())
                .hasSize(63);
    }

    @Test
    void emptyOrNullSchemaMeansTheConnectionsDefault() {
        assertThat(StorageOptions.builder().schema("").build().schema()).isEmpty();
        assertThat(StorageOptions.builder().schema(null).build().schema()).isEmpty();
    }

    static Stream<Arguments> invalidNames() {
        return Stream.of(
                        "x; drop table y",
                        "",
                        " ",
                        "1outbox",
                        TOO_LONG,
                        "outbox-table",
                        "\"quoted\"",
                        "a.b",
                        "tä",
                        null)
                .flatMap(name -> Stream.of(
                        invalid("outbox.storage.published-table", name, builder -> builder.publishedTable(name)),
                        invalid("outbox.storage.received-table", name, builder -> builder.receivedTable(name)),
                        invalid("outbox.storage.schema", name, builder -> builder.schema(name))))
                // an empty or null schema is valid: it means the connection's default schema
                .filter(arguments -> !(arguments.get()[0].equals("outbox.storage.schema")
                        && (arguments.get()[1] == null || "".equals(arguments.get()[1]))));
    }

    private static Arguments invalid(String property, String name, Consumer<StorageOptions.Builder> setting) {
        return Arguments.of(property, name, setting);
    }

    @ParameterizedTest(name = "{0} = [{1}]")
    @MethodSource("invalidNames")
    void invalidIdentifierIsRejectedNamingItsProperty(
            String property, String name, Consumer<StorageOptions.Builder> setting) {
        StorageOptions.Builder builder = StorageOptions.builder();

        assertThatThrownBy(() -> setting.accept(builder))
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo(property))
                .hasMessageContaining("not a valid SQL identifier");
    }

    @ParameterizedTest
    @ValueSource(strings = {"events", "EVENTS", "Events"})
    void samePublishedAndReceivedTableIsRejected(String received) {
        StorageOptions.Builder builder =
                StorageOptions.builder().publishedTable("events").receivedTable(received);

        assertThatThrownBy(builder::build)
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo("outbox.storage.received-table"))
                .hasMessageContaining("outbox.storage.published-table");
    }

    @Test
    void receivedTableNamedLikeTheDefaultPublishedOneIsRejected() {
        StorageOptions.Builder builder = StorageOptions.builder().receivedTable("msg_published");

        assertThatThrownBy(builder::build).isInstanceOf(OutboxConfigurationException.class);
    }
}
