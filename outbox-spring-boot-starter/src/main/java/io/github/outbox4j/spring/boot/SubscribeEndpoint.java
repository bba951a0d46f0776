package io.github.outbox4j.spring.boot;

import io.github.outbox4j.MessageHandler;
import io.github.outbox4j.OutboxException;
import io.github.outbox4j.ReceivedMessage;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.Objects;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * One {@code @Subscribe} method as a plain object: what to subscribe ({@code topic}, {@code group}, {@code
 * concurrency}), the type its payload is read as, and how to call it. Built by {@link SubscribeAnnotationBeanPostProcessor}
 * with every placeholder resolved and the signature checked; registered with the outbox by {@link OutboxLifecycle}.
 * Immutable.
 *
 * @param description the method, for messages: {@code com.example.Inventory.deductStock(OrderPaid)}
 * @param bean the bean (or its proxy) the method is called on
 * @param method the method to call on {@code bean}: the proxy's when the bean is proxied
 * @param payloadType the generic type of the first parameter
 * @param withMessage whether the method takes the {@link ReceivedMessage} as its second parameter
 */
record SubscribeEndpoint(
        String description,
        String topic,
        String group,
        int concurrency,
        Object bean,
        Method method,
        Type payloadType,
        boolean withMessage) {

    SubscribeEndpoint {
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(bean, "bean");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(payloadType, "payloadType");
        ReflectionUtils.makeAccessible(method);
    }

    /** A method's description for messages: declaring class, name and parameter types. */
    static String describe(Method method) {
        StringBuilder text = new StringBuilder(ClassUtils.getQualifiedMethodName(method)).append('(');
        Class<?>[] types = method.getParameterTypes();
        for (int i = 0; i < types.length; i++) {
            text.append(i == 0 ? "" : ", ").append(types[i].getSimpleName());
        }
        return text.append(')').toString();
    }

    /** Calls the method; what it throws is the attempt's failure, what it returns goes to the callback topic. */
    MessageHandler<Object> handler() {
        return (payload, message) -> {
            Object[] arguments = withMessage ? new Object[] {payload, message} : new Object[] {payload};
            try {
                return method.invoke(bean, arguments);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause instanceof Exception exception) {
                    throw exception;
                }
                if (cause instanceof Error error) {
                    throw error;
                }
                throw new OutboxException(description + " failed: " + cause, cause);
            }
        };
    }
}
