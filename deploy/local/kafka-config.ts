import { randomBytes } from "node:crypto";

// The files a local broker starts from, written into its temp dir: server.properties and the log4j set-up,
// plus the cluster id its storage is formatted with.

/**
 * A cluster id as Kafka's `Uuid.randomUuid()` makes one (what `kafka-storage.sh random-uuid` prints): 16
 * random bytes, URL-safe base64 without padding, never starting with "-" (it would read as a command-line flag).
 * Made here to save a JVM start.
 */
export function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/** shared/spec/kafka-local.md: a minimal combined-mode node on loopback, everything replicated once. */
export function serverProperties(
  port: number,
  advertisedPort: number,
  controllerPort: number,
  logDir: string,
): string {
  return `${[
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${advertisedPort}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    `log.dirs=${logDir}`,
    "num.partitions=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    // As in production (spec §4): topics exist only when created explicitly.
    "auto.create.topics.enable=false",
  ].join("\n")}\n`;
}

/** The broker's own log goes to a file in its temp dir (quoted on a failed start), not to our stdout. */
export function log4jProperties(file: string): string {
  return `${[
    "status = warn",
    "appender.file.type = File",
    "appender.file.name = FILE",
    `appender.file.fileName = ${file}`,
    "appender.file.layout.type = PatternLayout",
    "appender.file.layout.pattern = [%d] %p %m (%c)%n",
    "rootLogger.level = INFO",
    "rootLogger.appenderRef.file.ref = FILE",
  ].join("\n")}\n`;
}
