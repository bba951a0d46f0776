package io.github.outbox4j.spring.boot;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxPublisher;
import io.github.outbox4j.annotation.Subscribe;
import io.github.outbox4j.annotation.TransactionalPublish;
import org.springframework.aop.Advisor;
import org.springframework.aop.config.AopConfigUtils;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.context.annotation.Role;
import org.springframework.core.type.AnnotationMetadata;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The annotations facet: {@link Subscribe} methods become consumers (found by {@link
 * SubscribeAnnotationBeanPostProcessor}, subscribed by {@link OutboxLifecycle}), and {@link TransactionalPublish}
 * methods are advised by {@link TransactionalPublishInterceptor} through Spring's auto-proxying (an infrastructure
 * auto-proxy creator is registered if the application has none, as {@code @EnableTransactionManagement} does; Spring
 * Boot's AOP auto-configuration decides between class and interface proxies).
 *
 * <p>The bean post-processor and the advisor are static {@code @Bean}s of the infrastructure role: they are created
 * before the other beans and must not pull the outbox (and with it the {@code DataSource}) in early.
 */
@AutoConfiguration(after = OutboxAutoConfiguration.class)
@ConditionalOnBean(Outbox.class)
@Import(OutboxAnnotationAutoConfiguration.AutoProxyRegistrar.class)
public final class OutboxAnnotationAutoConfiguration {

    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static SubscribeAnnotationBeanPostProcessor outboxSubscribeAnnotationBeanPostProcessor() {
        return new SubscribeAnnotationBeanPostProcessor();
    }

    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static Advisor outboxTransactionalPublishAdvisor(
            ObjectProvider<OutboxPublisher> publisher,
            ObjectProvider<PlatformTransactionManager> transactionManager,
            ConfigurableListableBeanFactory beanFactory) {
        DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(
                new AnnotationMatchingPointcut(null, TransactionalPublish.class, true),
                new TransactionalPublishInterceptor(publisher, transactionManager, beanFactory));
        return advisor;
    }

    /** Makes sure an auto-proxy creator exists, so that the advisor applies without {@code spring-boot-starter-aop}. */
    static final class AutoProxyRegistrar implements ImportBeanDefinitionRegistrar {
        @Override
        public void registerBeanDefinitions(AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
            AopConfigUtils.registerAutoProxyCreatorIfNecessary(registry);
        }
    }
}
