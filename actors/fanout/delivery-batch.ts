import { type Span, SpanKind, type Tracer } from "@opentelemetry/api";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type { Delivery } from "../../runtime/gateway-api.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { ConsumedRecord, EventRecord, RecordBatch } from "../../runtime/ports/event-log.js";
import type { ConnectionRegistry } from "../../runtime/ports/routing.js";
import { contextOf, TRACEPARENT, traceparentOfSpan } from "../../runtime/tracing/propagation.js";
import { deadLetterRecord } from "./dead-letters.js";
import type { DeliveryAction, RouteMode } from "./delivery.machine.js";
import { type DeliveryEffects, DeliveryLifecycle } from "./delivery-lifecycle.js";
import { parseRecord } from "./fanout-records.js";
import type { GatewayPusher } from "./gateway-pusher.js";
import type { LiveGateways, ResolvedGateway } from "./live-gateways.js";
import type { MembershipCache } from "./membership-cache.js";
import { type PacingOptions, pacedSlices } from "./pacing.js";
import type { RecentSequences } from "./recent-sequences.js";

/** What a batch uses of its worker: its caches, its pusher, and the counters it adds to. */
export interface BatchTools {
  readonly cache: MembershipCache;
  readonly gateways: LiveGateways;
  readonly pusher: GatewayPusher;
  readonly recent: RecentSequences;
  readonly connections: Pick<ConnectionRegistry, "gatewaysOfUsers">;
  readonly pacing: PacingOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tracer: Tracer;
  /** `consumer_id` of the dead letters. */
  readonly nodeId: string;
  readonly counts: {
    membershipEvents: number;
    readonly routing: { routed: number; broadcast: number; unknownGateways: number };
  };
}

/** A record that is not an event: it goes to `dead_letters`. */
interface PoisonRecord {
  readonly kind: "poison";
  /** The record's key; a poison record has no sequence. */
  readonly chatId: string;
  readonly sequence: 0;
  readonly consumed: ConsumedRecord;
  readonly reason: string;
}

/** A MessagePersisted record and what the batch learns about it on the way. */
interface MessageRecord {
  readonly kind: "message";
  readonly chatId: ChatId;
  readonly sequence: number;
  readonly message: Delivery["message"];
  readonly excludeConnectionId: Delivery["excludeConnectionId"];
  /** `fanout.consume`, continuing the record's `traceparent` header; ends with the batch. */
  readonly span: Span;
  /** The span's context, handed to gateways with each delivery of the message. */
  readonly traceparent: string | undefined;
  recipients: readonly UserId[];
  /** The recipients on at least one gateway, each with its gateways, in member order. */
  online: ReadonlyArray<readonly [UserId, readonly ResolvedGateway[]]>;
  /** The machine asked to remember it: done by the worker when the batch is committed. */
  remembered: boolean;
}

type Lifecycle = DeliveryLifecycle<MessageRecord>;
type Target = readonly [ResolvedGateway, Delivery];

/**
 * One batch of consumed records, each driven by the delivery machine (./delivery.machine.ts): the machine
 * decides, this class performs the effects it asks for and reports their outcomes. Effects are batched
 * across records: members are read once per chat, gateways looked up once for every recipient, and the
 * deliveries of all records go out in shared waves. Side effects come in an order that keeps a throw safe:
 * nothing is pushed before every member list is read (a throw there hands the whole batch back), and
 * remembering and dead-lettering are left to the worker, which does them only when it commits the batch.
 */
export class DeliveryBatch {
  /** The MessagePersisted records, in batch order (the inspector's in-flight deliveries). */
  readonly messages: Lifecycle[] = [];
  /** The poison records; counted only once their dead letters are written. */
  readonly poisoned: DeliveryLifecycle<PoisonRecord>[] = [];
  /** The dead letters the machine asked for, to publish before the batch is committed. */
  readonly letters: EventRecord[] = [];
  private readonly inBatch = new Set<string>();
  private readonly resolving: Lifecycle[] = [];
  private readonly routing: Lifecycle[] = [];
  private readonly broadcasting: Lifecycle[] = [];
  private readonly pushing: Lifecycle[] = [];
  private readonly waves: Array<{ delayMs: number; targets: Target[] }> = [{ delayMs: 0, targets: [] }];
  private held = false;

  /** A `holdBatch` was asked for: the batch must not be committed. */
  get isHeld(): boolean {
    return this.held;
  }

  constructor(
    private readonly tools: BatchTools,
    private readonly consumerGroup: string,
  ) {}

  /** Reads every record: membership events refresh the cache; the others enter the delivery machine. */
  consume(batch: RecordBatch): void {
    for (const record of batch.records) {
      const parsed = parseRecord(record);
      if (parsed.kind === "membership") {
        this.tools.cache.invalidate(parsed.chatId);
        this.tools.counts.membershipEvents++;
        continue;
      }
      if (parsed.kind === "poison") {
        const lifecycle = new DeliveryLifecycle<PoisonRecord>(
          { kind: "poison", chatId: record.key, sequence: 0, consumed: record, reason: parsed.reason },
          this.poisonEffects,
        );
        this.poisoned.push(lifecycle);
        lifecycle.send({ type: "CONSUMED", poison: true, seen: false });
        continue;
      }
      if (parsed.eventVersion !== 1) {
        this.tools.logger.warn(
          { event_version: parsed.eventVersion },
          "unknown MessagePersisted version; read as v1",
        );
      }
      const { message } = parsed;
      const span = this.consumeSpan(record, message);
      const lifecycle = new DeliveryLifecycle<MessageRecord>(
        {
          kind: "message",
          chatId: message.chatId,
          sequence: message.sequence,
          message,
          excludeConnectionId: parsed.excludeConnectionId,
          span,
          traceparent: traceparentOfSpan(span),
          recipients: [],
          online: [],
          remembered: false,
        },
        this.messageEffects,
      );
      this.messages.push(lifecycle);
    }
    // Repeats are found once every record is read: a replay (D4) or the same record twice in this batch.
    for (const lifecycle of this.messages) {
      const { chatId, sequence } = lifecycle.record;
      const key = `${chatId}#${sequence}`;
      const seen = this.tools.recent.has(chatId, sequence) || this.inBatch.has(key);
      this.inBatch.add(key);
      lifecycle.send({ type: "CONSUMED", poison: false, seen });
    }
  }

  /** Reads the members of every chat the machine asked about (cache, else the durability plane). */
  async readMembers(): Promise<void> {
    const asked = this.resolving;
    if (asked.length === 0) return;
    const chats = [...new Set(asked.map((lifecycle) => lifecycle.record.chatId as ChatId))];
    const members = new Map<ChatId, readonly UserId[]>();
    let failure: unknown;
    try {
      await Promise.all(
        chats.map(async (chatId) => {
          members.set(chatId, await this.tools.cache.membersOf(chatId));
        }),
      );
    } catch (error) {
      failure = error;
      for (const lifecycle of asked) lifecycle.send({ type: "MEMBERS_UNAVAILABLE" });
    }
    if (this.held) {
      throw new AppError("SERVICE_UNAVAILABLE", "chat members are unreadable; the batch is retried", {
        cause: failure,
      });
    }
    for (const lifecycle of asked) {
      const { record } = lifecycle;
      record.recipients = members.get(record.chatId) ?? [];
      lifecycle.send({ type: "MEMBERS", count: record.recipients.length });
    }
  }

  /**
   * Looks up the gateways of every recipient the machine asked about, or, for the records the machine
   * broadcasts (routing down), takes every live gateway: each filters by its own connections (D7).
   */
  async findRoutes(): Promise<void> {
    const asked = this.routing;
    if (asked.length === 0) return;
    const users = [...new Set(asked.flatMap((lifecycle) => lifecycle.record.recipients))];
    let routes: Map<UserId, string[]> | undefined;
    try {
      routes = await this.tools.connections.gatewaysOfUsers(users);
    } catch (error) {
      this.tools.logger.warn({ err: error }, "routing unavailable; broadcasting to every live gateway");
      for (const lifecycle of asked) lifecycle.send({ type: "ROUTING_UNAVAILABLE" });
    }
    if (routes !== undefined) {
      const table = routes;
      const ids = new Set([...table.values()].flat());
      const known =
        ids.size === 0 ? new Map<string, ResolvedGateway>() : await this.tools.gateways.byIds(ids);
      this.tools.counts.routing.unknownGateways += [...ids].filter((id) => !known.has(id)).length;
      const targetsOf = (userId: UserId) => (table.get(userId) ?? []).flatMap((id) => known.get(id) ?? []);
      for (const lifecycle of asked) this.route(lifecycle, targetsOf, "routed");
    }
    if (this.broadcasting.length > 0) {
      const all = await this.tools.gateways.all();
      for (const lifecycle of this.broadcasting) this.route(lifecycle, () => all, "broadcast");
    }
  }

  /**
   * Pushes the waves the machine's `push` actions filled: everything at once, except that a large chat's
   * recipients past the immediate ones are paced (./pacing.ts). Waves go one after another, so each gateway
   * still sees the deliveries in record order.
   */
  async sendWaves(): Promise<void> {
    if (this.pushing.length === 0) return;
    const { pusher } = this.tools;
    for (const wave of this.waves) {
      if (pusher.isAbandoned) break;
      if (wave.delayMs > 0) await pusher.pause(wave.delayMs);
      await pusher.push(byGateway(wave.targets));
    }
    for (const lifecycle of this.pushing) lifecycle.send({ type: "PUSHED" });
  }

  /** The machine's actions for a message, performed for one record each; their I/O waits for the next phase. */
  private readonly messageEffects: DeliveryEffects<MessageRecord> = {
    deadLetter: refused("deadLetter", "a message"),
    resolveMembers: (lifecycle) => this.resolving.push(lifecycle),
    holdBatch: () => {
      this.held = true;
    },
    lookUpRoutes: (lifecycle) => this.routing.push(lifecycle),
    broadcast: (lifecycle) => this.broadcasting.push(lifecycle),
    push: (lifecycle) => this.queue(lifecycle),
    remember: ({ record }) => {
      record.remembered = true;
    },
  };

  /** A poison record can only be dead-lettered: any other action is a machine this batch does not know. */
  private readonly poisonEffects: DeliveryEffects<PoisonRecord> = {
    deadLetter: ({ record }) => this.deadLetter(record),
    resolveMembers: refused("resolveMembers", "a poison record"),
    holdBatch: refused("holdBatch", "a poison record"),
    lookUpRoutes: refused("lookUpRoutes", "a poison record"),
    broadcast: refused("broadcast", "a poison record"),
    push: refused("push", "a poison record"),
    remember: refused("remember", "a poison record"),
  };

  private deadLetter(record: PoisonRecord): void {
    const { consumed, reason } = record;
    this.letters.push(
      deadLetterRecord(consumed, {
        consumerGroup: this.consumerGroup,
        consumerId: this.tools.nodeId,
        reason,
        now: this.tools.clock.now(),
      }),
    );
    this.tools.logger.warn(
      { topic: consumed.topic, partition: consumed.partition, offset: consumed.offset, reason },
      "poison record to dead_letters",
    );
  }

  /** Adds the record's deliveries to the waves, paced for a large chat. */
  private queue(lifecycle: Lifecycle): void {
    const { record } = lifecycle;
    this.pushing.push(lifecycle);
    const slices = pacedSlices(record.online, record.recipients.length, this.tools.pacing);
    for (const [index, slice] of slices.entries()) {
      if (index > 0) this.waves.push({ delayMs: slice.delayMs, targets: [] });
      const wave = this.waves[this.waves.length - 1];
      for (const [userId, gateways] of slice.recipients) {
        const delivery = deliveryOf(record, userId);
        for (const gateway of gateways) wave?.targets.push([gateway, delivery]);
      }
    }
  }

  /** Finds the record's online recipients and the gateways they are on; the machine decides what follows. */
  private route(
    lifecycle: Lifecycle,
    targetsOf: (userId: UserId) => readonly ResolvedGateway[],
    mode: RouteMode,
  ): void {
    const { record } = lifecycle;
    this.tools.counts.routing[mode]++;
    const reached = new Set<string>();
    const online: Array<readonly [UserId, readonly ResolvedGateway[]]> = [];
    for (const userId of record.recipients) {
      const gateways = targetsOf(userId);
      if (gateways.length === 0) continue;
      online.push([userId, gateways]);
      for (const gateway of gateways) reached.add(gateway.node.nodeId);
    }
    record.online = online;
    lifecycle.send({ type: "ROUTES", gateways: reached.size });
  }

  /** Continues the publication's span from the record's `traceparent` header (a new trace without one). */
  private consumeSpan(record: ConsumedRecord, message: Delivery["message"]): Span {
    return this.tools.tracer.startSpan(
      "fanout.consume",
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          chat_id: message.chatId,
          message_id: message.messageId,
          sequence: message.sequence,
        },
      },
      contextOf(record.headers[TRACEPARENT]),
    );
  }
}

function refused(action: DeliveryAction, what: string): () => never {
  return () => {
    throw new AppError("INTERNAL_ERROR", `the delivery machine asked to ${action} ${what}`);
  };
}

function deliveryOf(record: MessageRecord, userId: UserId): Delivery {
  return {
    userId,
    message: record.message,
    ...(record.excludeConnectionId === undefined ? {} : { excludeConnectionId: record.excludeConnectionId }),
    ...(record.traceparent === undefined ? {} : { traceparent: record.traceparent }),
  };
}

function byGateway(
  targets: readonly Target[],
): Map<string, { gateway: ResolvedGateway; deliveries: Delivery[] }> {
  const grouped = new Map<string, { gateway: ResolvedGateway; deliveries: Delivery[] }>();
  for (const [gateway, delivery] of targets) {
    let entry = grouped.get(gateway.node.nodeId);
    if (entry === undefined) {
      entry = { gateway, deliveries: [] };
      grouped.set(gateway.node.nodeId, entry);
    }
    entry.deliveries.push(delivery);
  }
  return grouped;
}
