package io.github.outbox4j.spring.boot;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.OutboxStorageProvider;
import io.github.outbox4j.spi.StorageOptions;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The storage facet: an {@link OutboxStorage} bean for the application's database, from the storage module on the
 * class path ({@code outbox-storage-postgres}, {@code outbox-storage-mysql}) that supports it, or the one named by
 * {@code outbox.storage.dialect}. A bean of the application's own replaces it. Being a bean, the storage is what the
 * actuator endpoint, the health indicator and the metrics read.
 */
@AutoConfiguration(after = OutboxAutoConfiguration.class)
@ConditionalOnBean(Outbox.class)
public final class OutboxStorageAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    OutboxStorage outboxStorage(DataSource dataSource, StorageOptions options, OutboxProperties properties) {
        return OutboxStorageProvider.detect(
                dataSource, options, properties.storage().dialect());
    }
}
