package io.github.outbox4j.spring.boot;

import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.annotation.Subscribe;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.aop.framework.AopProxyUtils;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.BeanInitializationException;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.BeanExpressionContext;
import org.springframework.beans.factory.config.BeanExpressionResolver;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * Finds {@link Subscribe} methods on every bean and turns each into a {@link SubscribeEndpoint}: placeholders
 * resolved, group defaulted, signature checked, so that a mistake fails the startup with a message naming the method.
 * Once every singleton exists, the endpoints go to the {@link OutboxLifecycle}, which subscribes them and starts the
 * outbox. The pipeline of spring-kafka's {@code @KafkaListener}, for three attributes.
 */
final class SubscribeAnnotationBeanPostProcessor
        implements BeanPostProcessor, BeanFactoryAware, EnvironmentAware, SmartInitializingSingleton, Ordered {
    static final String DEFAULT_GROUP_PROPERTY = "outbox.consumer.default-group";
    static final String APPLICATION_NAME_PROPERTY = "spring.application.name";

    private final Set<Class<?>> classesWithout = ConcurrentHashMap.newKeySet();
    private final List<SubscribeEndpoint> pending = new ArrayList<>();
    private ConfigurableListableBeanFactory beanFactory;
    private BeanExpressionContext expressionContext;
    private Environment environment;
    private volatile boolean singletonsInstantiated;

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beanFactory = (ConfigurableListableBeanFactory) beanFactory;
        this.expressionContext = new BeanExpressionContext(this.beanFactory, null);
    }

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        Class<?> targetClass = AopProxyUtils.ultimateTargetClass(bean);
        if (classesWithout.contains(targetClass)) {
            return bean;
        }
        Map<Method, Subscribe> annotated =
                MethodIntrospector.selectMethods(targetClass, (MethodIntrospector.MetadataLookup<Subscribe>)
                        method -> AnnotatedElementUtils.findMergedAnnotation(method, Subscribe.class));
        if (annotated.isEmpty()) {
            classesWithout.add(targetClass);
            return bean;
        }
        List<SubscribeEndpoint> endpoints = new ArrayList<>();
        annotated.forEach((method, subscribe) -> endpoints.add(endpoint(bean, beanName, method, subscribe)));
        synchronized (this) {
            if (!singletonsInstantiated) {
                pending.addAll(endpoints);
                return bean;
            }
        }
        lifecycle().register(endpoints);
        return bean;
    }

    @Override
    public void afterSingletonsInstantiated() {
        List<SubscribeEndpoint> endpoints;
        synchronized (this) {
            singletonsInstantiated = true;
            endpoints = List.copyOf(pending);
            pending.clear();
        }
        lifecycle().register(endpoints);
    }

    private OutboxLifecycle lifecycle() {
        return beanFactory.getBean(OutboxLifecycle.class);
    }

    private SubscribeEndpoint endpoint(Object bean, String beanName, Method method, Subscribe subscribe) {
        String description = SubscribeEndpoint.describe(method);
        if (Modifier.isStatic(method.getModifiers())) {
            throw failure(beanName, description, "is static; @Subscribe needs an instance method of the bean");
        }
        Class<?>[] parameters = method.getParameterTypes();
        boolean signatureOk = (parameters.length == 1 || parameters.length == 2)
                && parameters[0] != ReceivedMessage.class
                && (parameters.length == 1 || parameters[1] == ReceivedMessage.class);
        if (!signatureOk) {
            throw failure(
                    beanName,
                    description,
                    "has parameters @Subscribe does not support: use (Payload payload) or (Payload payload,"
                            + " ReceivedMessage message), where Payload is the type the JSON body is read as");
        }
        String topic = resolve(subscribe.topic());
        if (!StringUtils.hasText(topic)) {
            throw failure(beanName, description, "has no topic: set @Subscribe(topic = \"...\")");
        }
        String group = resolve(subscribe.group());
        if (!StringUtils.hasText(group)) {
            group = defaultGroup();
            if (!StringUtils.hasText(group)) {
                throw failure(
                        beanName,
                        description,
                        "names no consumer group, and neither " + DEFAULT_GROUP_PROPERTY + " nor "
                                + APPLICATION_NAME_PROPERTY + " is set: set @Subscribe(group = \"...\") or one of"
                                + " these properties");
            }
        }
        int concurrency = concurrency(beanName, description, subscribe.concurrency());
        Method invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
        return new SubscribeEndpoint(
                description,
                topic.strip(),
                group.strip(),
                concurrency,
                bean,
                invocable,
                method.getGenericParameterTypes()[0],
                parameters.length == 2);
    }

    private int concurrency(String beanName, String description, String raw) {
        String resolved = resolve(raw);
        try {
            int concurrency = Integer.parseInt(resolved == null ? "" : resolved.strip());
            if (concurrency >= 1) {
                return concurrency;
            }
        } catch (NumberFormatException e) {
            // reported below, with the value
        }
        throw failure(
                beanName,
                description,
                "has concurrency '" + resolved + "' (from '" + raw + "'): it must be a whole number of at least 1");
    }

    private String defaultGroup() {
        Binder binder = Binder.get(environment);
        String group = binder.bind(DEFAULT_GROUP_PROPERTY, String.class).orElse(null);
        return StringUtils.hasText(group)
                ? group
                : binder.bind(APPLICATION_NAME_PROPERTY, String.class).orElse(null);
    }

    /** Resolves {@code ${...}} placeholders, then {@code #{...}} expressions, like {@code @KafkaListener}. */
    private String resolve(String value) {
        String resolved = beanFactory.resolveEmbeddedValue(value);
        BeanExpressionResolver resolver = beanFactory.getBeanExpressionResolver();
        if (resolver != null && resolved != null) {
            Object evaluated = resolver.evaluate(resolved, expressionContext);
            return evaluated == null ? null : evaluated.toString();
        }
        return resolved;
    }

    private static BeanInitializationException failure(String beanName, String description, String problem) {
        return new BeanInitializationException(
                "@Subscribe method " + description + " of bean '" + beanName + "' " + problem);
    }
}
