package io.github.outbox4j.examples.demo;

import static io.github.outbox4j.examples.demo.Shop.INVENTORY;
import static io.github.outbox4j.examples.demo.Shop.MEMBERSHIP;
import static io.github.outbox4j.examples.demo.Shop.ORDER;
import static io.github.outbox4j.examples.demo.Shop.WAREHOUSE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.examples.demo.ShopReport.Effect;
import io.github.outbox4j.testkit.KafkaBroker;
import io.github.outbox4j.testkit.TestServices;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * The example end to end on real services: the four applications on PostgreSQL ({@value TestServices#POSTGRES_URL},
 * a database per service, created for the test and dropped after it) and a Kafka broker of the test kit, which the
 * test stops for a while. 1,000 orders are paid: 300 before the outage, 400 during it, 300 after the broker is back;
 * the warehouse fails its first attempt for every 10th order. At the end every paid order has exactly one stock
 * deduction, one points entry and one delivery order.
 */
class OrderPaidScenarioIT {
    private static final int BEFORE = 300;
    private static final int DURING = 400;
    private static final int AFTER = 300;
    private static final int ORDERS = BEFORE + DURING + AFTER;
    private static final Duration DEADLINE = Duration.ofSeconds(120);

    /** Short delays, so that the retries of the outage happen within the test's time. */
    private static final String[] SETTINGS = {
        "--server.port=0",
        "--outbox.retry.immediate-attempts=2",
        "--outbox.retry.first-delay=5s",
        "--outbox.retry.interval=1s",
        // enough attempts for the whole outage: nothing may end FAILED
        "--outbox.retry.max-attempts=1000",
        "--outbox.retry.poll-interval=250ms",
        // a send to the stopped broker fails after 5 s instead of 25 s
        "--outbox.kafka.producer.delivery.timeout.ms=5000",
        "--outbox.kafka.producer.request.timeout.ms=2000",
        "--outbox.kafka.producer.max.block.ms=2000",
        "--outbox.shutdown-timeout=5s",
        "--warehouse.fail-first-attempt-every=10",
        // a line per handled message, and per reconnection attempt during the outage, is too much for a build log
        "--logging.level.io.github.outbox4j.examples=WARN",
        "--logging.level.org.apache.kafka=ERROR"
    };

    @Test
    void everyPaidOrderTakesEffectOnceInEachServiceThroughABrokerOutageAndFailedAttempts() {
        String postgres = TestServices.postgresUrl();
        String suffix = "_it_%06x".formatted(ThreadLocalRandom.current().nextInt(0x1000000));
        try (KafkaBroker kafka = KafkaBroker.create().start()) {
            Shop shop = Shop.start(new Backends(postgres, kafka.bootstrapServers()), suffix, SETTINGS);
            try {
                OrderLoad load = new OrderLoad(shop);
                long start = System.nanoTime();

                load.payOrders(BEFORE);
                kafka.stop();
                long outageStart = System.nanoTime();
                load.payOrders(DURING);
                // the outage is felt: sends have failed, and their rows wait for the retry processor
                await().atMost(Duration.ofSeconds(60))
                        .until(() ->
                                shop.count(ORDER, "SELECT count(*) FROM msg_published WHERE status = 'RETRYING'") > 0);
                long waitingAtRestart =
                        shop.count(ORDER, "SELECT count(*) FROM msg_published WHERE status <> 'SUCCEEDED'");
                kafka.start();
                Duration outage = Duration.ofNanos(System.nanoTime() - outageStart);
                load.payOrders(AFTER);

                await().atMost(DEADLINE).until(() -> ShopReport.of(shop).consistent());
                ShopReport report = ShopReport.of(shop);
                Duration total = Duration.ofNanos(System.nanoTime() - start);

                Effect onePerOrder = new Effect(ORDERS, ORDERS);
                assertThat(report.paidOrders()).isEqualTo(ORDERS);
                assertThat(report.stockDeductions()).isEqualTo(onePerOrder);
                assertThat(report.pointsEntries()).isEqualTo(onePerOrder);
                assertThat(report.deliveryOrders()).isEqualTo(onePerOrder);
                // the outbox tables agree: every message sent, and handled by each consumer group
                assertThat(shop.count(ORDER, "SELECT count(*) FROM msg_published WHERE status = 'SUCCEEDED'"))
                        .isEqualTo(ORDERS);
                for (String consumer : new String[] {INVENTORY, MEMBERSHIP, WAREHOUSE}) {
                    assertThat(shop.count(consumer, "SELECT count(*) FROM msg_received WHERE status = 'SUCCEEDED'"))
                            .as(consumer)
                            .isEqualTo(ORDERS);
                }
                // and the faults happened: sends failed during the outage, warehouse attempts failed
                long retriedSends = shop.count(ORDER, "SELECT count(*) FROM msg_published WHERE attempts > 1");
                long retriedDeliveryOrders =
                        shop.count(WAREHOUSE, "SELECT count(*) FROM msg_received WHERE attempts > 1");
                assertThat(retriedSends).isPositive();
                assertThat(retriedDeliveryOrders).isGreaterThanOrEqualTo(ORDERS / 10);

                System.out.printf(
                        "OrderPaidScenarioIT: %d orders paid (%d before, %d during a %d s Kafka outage, %d after);"
                                + " %d messages unsent at the restart, %d needed more than one send attempt,"
                                + " %d delivery orders after a failed attempt; %s; consistent after %d s%n",
                        ORDERS,
                        BEFORE,
                        DURING,
                        outage.toSeconds(),
                        AFTER,
                        waitingAtRestart,
                        retriedSends,
                        retriedDeliveryOrders,
                        report,
                        total.toSeconds());
            } finally {
                shop.close();
                shop.databases().forEach(database -> Databases.drop(postgres, database));
            }
        }
    }
}
