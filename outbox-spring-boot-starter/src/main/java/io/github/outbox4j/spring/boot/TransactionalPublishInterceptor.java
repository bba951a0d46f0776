package io.github.outbox4j.spring.boot;

import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.OutboxPublisher;
import io.github.outbox4j.annotation.TransactionalPublish;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.expression.Expression;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.StringUtils;

/**
 * Runs a {@link TransactionalPublish} method in a transaction ({@code PROPAGATION_REQUIRED}) and publishes its
 * non-null result in it. Any exception of the method rolls the transaction back, checked ones included: a method that
 * failed publishes nothing and keeps none of its writes. The publisher and the transaction manager are looked up on
 * the first call, so that creating this interceptor (which happens early, with the other advisors) creates no other
 * bean. Thread-safe.
 */
final class TransactionalPublishInterceptor implements MethodInterceptor {
    private static final SpelExpressionParser PARSER = new SpelExpressionParser();

    private final ObjectProvider<OutboxPublisher> publisher;
    private final ObjectProvider<PlatformTransactionManager> transactionManager;
    private final ConfigurableBeanFactory beanFactory;
    private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();
    private final Map<Method, Target> targets = new ConcurrentHashMap<>();
    private volatile TransactionTemplate template;

    TransactionalPublishInterceptor(
            ObjectProvider<OutboxPublisher> publisher,
            ObjectProvider<PlatformTransactionManager> transactionManager,
            ConfigurableBeanFactory beanFactory) {
        this.publisher = publisher;
        this.transactionManager = transactionManager;
        this.beanFactory = beanFactory;
    }

    /** The resolved topic and parsed key expression of one method. */
    private record Target(String topic, @Nullable Expression key) {}

    @Override
    public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
        Class<?> targetClass = invocation.getThis() == null ? null : AopUtils.getTargetClass(invocation.getThis());
        Method method = AopUtils.getMostSpecificMethod(invocation.getMethod(), targetClass);
        Target target = targets.computeIfAbsent(method, this::target);
        try {
            return template().execute(status -> {
                Object result;
                try {
                    result = invocation.proceed();
                } catch (RuntimeException | Error e) {
                    throw e;
                } catch (Throwable e) {
                    throw new CheckedFailure(e);
                }
                if (result != null) {
                    OutboxMessage.Builder message = OutboxMessage.builder(target.topic(), result);
                    String key = key(target, method, invocation.getArguments(), result);
                    if (key != null) {
                        message.key(key);
                    }
                    publisher.getObject().publish(message.build());
                }
                return result;
            });
        } catch (CheckedFailure failure) {
            throw failure.getCause();
        }
    }

    private TransactionTemplate template() {
        TransactionTemplate current = template;
        if (current == null) {
            current = new TransactionTemplate(transactionManager.getObject());
            current.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRED);
            template = current;
        }
        return current;
    }

    private Target target(Method method) {
        TransactionalPublish annotation =
                AnnotatedElementUtils.findMergedAnnotation(method, TransactionalPublish.class);
        if (annotation == null) {
            throw new IllegalStateException("No @TransactionalPublish on " + method);
        }
        String topic = beanFactory.resolveEmbeddedValue(annotation.topic());
        if (!StringUtils.hasText(topic)) {
            throw new IllegalStateException("@TransactionalPublish on " + method + " has no topic");
        }
        Expression key = StringUtils.hasText(annotation.key()) ? PARSER.parseExpression(annotation.key()) : null;
        return new Target(topic.strip(), key);
    }

    private @Nullable String key(Target target, Method method, Object[] arguments, Object result) {
        if (target.key() == null) {
            return null;
        }
        MethodBasedEvaluationContext context =
                new MethodBasedEvaluationContext(result, method, arguments, parameterNames);
        context.setVariable("result", result);
        Object key = target.key().getValue(context);
        return key == null ? null : key.toString();
    }

    /** Carries a checked exception of the method through the template, which rolls back on it, to be rethrown. */
    private static final class CheckedFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CheckedFailure(Throwable cause) {
            super(cause);
        }
    }
}
