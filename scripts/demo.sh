#!/usr/bin/env bash
# Runs the example of examples/README.md: the order, inventory, membership and warehouse services, each a Spring
# Boot application with its own database, on a PostgreSQL server and a Kafka broker that the demo starts itself (or
# on the machine's own servers, see the profiles below).
# Needs only a JDK (17 or newer): Maven, Spring Boot, PostgreSQL's binaries and Kafka's jars come from Maven Central.
#
#   scripts/demo.sh                                  start everything and keep it running; Ctrl-C stops it all
#   scripts/demo.sh --load=1000                      pay 1,000 orders, wait for the consumers, print the counts, exit
#   scripts/demo.sh --spring.profiles.active=real    use the machine's PostgreSQL (127.0.0.1:5432, user postgres)
#                                                    and Kafka (127.0.0.1:9092, e.g. scripts/kafka.sh start)
#   scripts/demo.sh --spring.profiles.active=real-mysql-rabbitmq
#                                                    use the machine's MySQL or MariaDB (127.0.0.1:3306, user root)
#                                                    and RabbitMQ (127.0.0.1:5672, guest/guest)
#
# Any other --key=value goes to every service, e.g. --outbox.retry.first-delay=10s.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
cd "$ROOT"

echo "[demo] building the example (the first build downloads its dependencies from Maven Central)"
./mvnw -q -B -ntp -pl examples/demo -am package \
  -Dmaven.test.skip=true -Dspotless.check.skip=true -Djacoco.skip=true -Denforcer.skip=true

jars=(examples/demo/target/example-demo-*.jar)
exec "$JAVA" -Doutbox.kafka.libs="$ROOT/outbox-kafka-test-broker/target/kafka-libs" -jar "${jars[0]}" "$@"
