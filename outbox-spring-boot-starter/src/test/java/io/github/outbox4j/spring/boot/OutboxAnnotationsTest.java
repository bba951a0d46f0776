package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.OutboxPublisher;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.annotation.Subscribe;
import io.github.outbox4j.annotation.TransactionalPublish;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.aop.support.AopUtils;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

class OutboxAnnotationsTest {
    private final ApplicationContextRunner runner = StarterTestSupport.runner();

    record OrderPaid(long orderId, long amountCents) {}

    // --- @Subscribe ---

    static class Subscribers {
        @Subscribe(topic = "order.paid", group = "inventory")
        void inventory(OrderPaid event) {}

        @Subscribe(topic = "${test.topic}", group = "${test.group}", concurrency = "${test.concurrency}")
        void membership(OrderPaid event, ReceivedMessage message) {}

        @Subscribe(topic = "order.batch")
        void defaultGroup(List<OrderPaid> events) {}
    }

    @Configuration(proxyBeanMethods = false)
    static class SubscribersConfig {
        @Bean
        Subscribers subscribers() {
            return new Subscribers();
        }
    }

    @Test
    void subscribeMethodsBecomeEndpoints() {
        runner.withUserConfiguration(SubscribersConfig.class)
                .withPropertyValues(
                        "test.topic=order.paid",
                        "test.group=membership",
                        "test.concurrency=3",
                        "spring.application.name=shop")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    List<SubscribeEndpoint> endpoints =
                            context.getBean(OutboxLifecycle.class).endpoints();
                    assertThat(endpoints)
                            .extracting(
                                    SubscribeEndpoint::topic, SubscribeEndpoint::group, SubscribeEndpoint::concurrency)
                            .containsExactlyInAnyOrder(
                                    org.assertj.core.groups.Tuple.tuple("order.paid", "inventory", 1),
                                    org.assertj.core.groups.Tuple.tuple("order.paid", "membership", 3),
                                    org.assertj.core.groups.Tuple.tuple("order.batch", "shop", 1));
                    SubscribeEndpoint batch = endpoints.stream()
                            .filter(e -> e.topic().equals("order.batch"))
                            .findFirst()
                            .orElseThrow();
                    assertThat(batch.payloadType()).isInstanceOf(ParameterizedType.class);
                    assertThat(batch.payloadType().getTypeName())
                            .contains("List")
                            .contains("OrderPaid");
                    assertThat(endpoints.stream().filter(e -> e.group().equals("membership")))
                            .allMatch(SubscribeEndpoint::withMessage);
                });
    }

    @Test
    void theDefaultGroupPropertyComesBeforeTheApplicationName() {
        runner.withUserConfiguration(SubscribersConfig.class)
                .withPropertyValues(
                        "test.topic=t",
                        "test.group=g",
                        "test.concurrency=1",
                        "spring.application.name=shop",
                        "outbox.consumer.default-group=shop-consumers")
                .run(context -> assertThat(
                                context.getBean(OutboxLifecycle.class).endpoints())
                        .anyMatch(e ->
                                e.topic().equals("order.batch") && e.group().equals("shop-consumers")));
    }

    @Test
    void noGroupAndNoApplicationNameFailsNamingTheMethod() {
        runner.withUserConfiguration(SubscribersConfig.class)
                .withPropertyValues("test.topic=t", "test.group=g", "test.concurrency=1")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure())
                            .hasStackTraceContaining("Subscribers.defaultGroup(List)")
                            .hasStackTraceContaining("outbox.consumer.default-group")
                            .hasStackTraceContaining("spring.application.name");
                });
    }

    static class BadSignature {
        @Subscribe(topic = "t", group = "g")
        void handle(OrderPaid event, String other) {}
    }

    static class MessageFirst {
        @Subscribe(topic = "t", group = "g")
        void handle(ReceivedMessage message) {}
    }

    static class NoParameters {
        @Subscribe(topic = "t", group = "g")
        void handle() {}
    }

    static class BadConcurrency {
        @Subscribe(topic = "t", group = "g", concurrency = "lots")
        void handle(OrderPaid event) {}
    }

    static class Twice {
        @Subscribe(topic = "t", group = "g")
        void first(OrderPaid event) {}

        @Subscribe(topic = "t", group = "g")
        void second(OrderPaid event) {}
    }

    @Test
    void anUnsupportedSignatureFailsNamingTheMethod() {
        assertStartupFails(BadSignature.class, "BadSignature.handle(OrderPaid, String)", "parameters");
        assertStartupFails(MessageFirst.class, "MessageFirst.handle(ReceivedMessage)", "parameters");
        assertStartupFails(NoParameters.class, "NoParameters.handle()", "parameters");
        assertStartupFails(BadConcurrency.class, "BadConcurrency.handle(OrderPaid)", "concurrency 'lots'");
        assertStartupFails(Twice.class, "Twice.first(OrderPaid)", "Twice.second(OrderPaid)");
    }

    private void assertStartupFails(Class<?> beanClass, String method, String problem) {
        runner.withBean(beanClass).run(context -> {
            assertThat(context).as(method).hasFailed();
            assertThat(context.getStartupFailure())
                    .hasStackTraceContaining(method)
                    .hasStackTraceContaining(problem);
        });
    }

    @Test
    void anEndpointCallsItsMethodAndPassesWhatItThrows() throws Exception {
        List<Object> calls = new CopyOnWriteArrayList<>();
        class Handler {
            @Subscribe(topic = "t", group = "g")
            String handle(OrderPaid event, ReceivedMessage message) throws IOException {
                if (event.orderId() < 0) {
                    throw new IOException("negative");
                }
                calls.add(event);
                calls.add(message.id());
                return "done";
            }
        }
        runner.withBean(Handler.class, Handler::new).run(context -> {
            SubscribeEndpoint endpoint =
                    context.getBean(OutboxLifecycle.class).endpoints().get(0);
            ReceivedMessage message = new ReceivedMessage("id-1", "t", "g", null, Map.of(), 1, null, null);
            assertThat(endpoint.handler().handle(new OrderPaid(1, 2), message)).isEqualTo("done");
            assertThat(calls).containsExactly(new OrderPaid(1, 2), "id-1");
            assertThatThrownBy(() -> endpoint.handler().handle(new OrderPaid(-1, 2), message))
                    .isInstanceOf(IOException.class)
                    .hasMessage("negative");
        });
    }

    // --- @TransactionalPublish ---

    interface Payments {
        @TransactionalPublish(topic = "${test.topic:order.paid}", key = "#result.orderId()")
        OrderPaid pay(long orderId, long amountCents) throws IOException;
    }

    static class PaymentService implements Payments {
        @Override
        public OrderPaid pay(long orderId, long amountCents) throws IOException {
            if (orderId < 0) {
                throw new IOException("card declined");
            }
            return orderId == 0 ? null : new OrderPaid(orderId, amountCents);
        }
    }

    static class RefundService {
        @TransactionalPublish(topic = "order.refunded", key = "#orderId + '-' + #p1")
        public String refund(long orderId, String reason) {
            return "refund of " + orderId;
        }

        @TransactionalPublish(topic = "order.refunded")
        public String refundWithoutKey(long orderId) {
            return "refund of " + orderId;
        }
    }

    /** Records what is published, and whether a transaction was active then. */
    static class RecordingPublisher implements OutboxPublisher {
        final List<OutboxMessage> messages = new CopyOnWriteArrayList<>();
        final List<Boolean> inTransaction = new CopyOnWriteArrayList<>();

        @Override
        public String publish(OutboxMessage message) {
            messages.add(message);
            inTransaction.add(TransactionSynchronizationManager.isActualTransactionActive());
            return "id-" + messages.size();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class PublishingConfig {
        @Bean
        RecordingPublisher recordingPublisher() {
            return new RecordingPublisher();
        }

        @Bean
        PaymentService paymentService() {
            return new PaymentService();
        }

        @Bean
        RefundService refundService() {
            return new RefundService();
        }
    }

    @Test
    void transactionalPublishPublishesTheResultInATransaction() {
        runner.withUserConfiguration(PublishingConfig.class).run(context -> {
            assertThat(context).hasNotFailed();
            Payments payments = context.getBean(Payments.class);
            assertThat(AopUtils.isAopProxy(payments)).isTrue();
            RecordingPublisher publisher = context.getBean(RecordingPublisher.class);
            RecordingTransactionManager transactions =
                    (RecordingTransactionManager) context.getBean(PlatformTransactionManager.class);

            assertThat(payments.pay(42, 1999)).isEqualTo(new OrderPaid(42, 1999));

            assertThat(publisher.messages).hasSize(1);
            OutboxMessage message = publisher.messages.get(0);
            assertThat(message.topic()).isEqualTo("order.paid");
            assertThat(message.payload()).isEqualTo(new OrderPaid(42, 1999));
            assertThat(message.key()).isEqualTo("42");
            assertThat(publisher.inTransaction).containsExactly(true);
            assertThat(transactions.commits).hasValue(1);
            assertThat(transactions.rollbacks).hasValue(0);
        });
    }

    @Test
    void aNullResultPublishesNothing() {
        runner.withUserConfiguration(PublishingConfig.class).run(context -> {
            assertThat(context.getBean(Payments.class).pay(0, 1)).isNull();
            assertThat(context.getBean(RecordingPublisher.class).messages).isEmpty();
            assertThat(((RecordingTransactionManager) context.getBean(PlatformTransactionManager.class)).commits)
                    .hasValue(1);
        });
    }

    @Test
    void anExceptionRollsBackAndPublishesNothingEvenACheckedOne() {
        runner.withUserConfiguration(PublishingConfig.class).run(context -> {
            assertThatThrownBy(() -> context.getBean(Payments.class).pay(-1, 1))
                    .isInstanceOf(IOException.class)
                    .hasMessage("card declined");
            assertThat(context.getBean(RecordingPublisher.class).messages).isEmpty();
            RecordingTransactionManager transactions =
                    (RecordingTransactionManager) context.getBean(PlatformTransactionManager.class);
            assertThat(transactions.rollbacks).hasValue(1);
            assertThat(transactions.commits).hasValue(0);
        });
    }

    @Test
    void itJoinsTheCallersTransaction() {
        runner.withUserConfiguration(PublishingConfig.class).run(context -> {
            RecordingTransactionManager transactions =
                    (RecordingTransactionManager) context.getBean(PlatformTransactionManager.class);
            new TransactionTemplate(transactions).executeWithoutResult(status -> {
                try {
                    context.getBean(Payments.class).pay(1, 1);
                    context.getBean(Payments.class).pay(2, 1);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(context.getBean(RecordingPublisher.class).messages).hasSize(2);
            assertThat(transactions.begins).hasValue(1);
            assertThat(transactions.commits).hasValue(1);
        });
    }

    @Test
    void theKeyExpressionSeesTheArgumentsAndPlaceholdersResolve() {
        runner.withUserConfiguration(PublishingConfig.class)
                .withPropertyValues("test.topic=payments.done")
                .run(context -> {
                    RefundService refunds = context.getBean(RefundService.class);
                    refunds.refund(7, "damaged");
                    refunds.refundWithoutKey(8);
                    context.getBean(Payments.class).pay(9, 1);
                    List<OutboxMessage> messages = context.getBean(RecordingPublisher.class).messages;
                    assertThat(messages)
                            .extracting(OutboxMessage::topic)
                            .containsExactly("order.refunded", "order.refunded", "payments.done");
                    assertThat(messages).extracting(OutboxMessage::key).containsExactly("7-damaged", null, "9");
                });
    }
}
