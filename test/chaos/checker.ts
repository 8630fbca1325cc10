/**
 * The checker of a chaos run: ARCHITECTURE.md §6 seen from outside, as a pure function of plain records (what
 * the clients logged, what storage holds, what `messages.persisted` holds), so ./checker.test.ts can feed it
 * histories with every kind of violation without starting anything.
 */

/** One broken promise, described well enough to debug from the JSON alone. */
export interface Violation {
  readonly kind:
    | "acknowledged_message_lost"
    | "duplicate_message"
    | "sequence_gap"
    | "member_order_differs"
    | "client_not_converged"
    | "delivery_state_decreased"
    | "message_not_published"
    | "published_content_mismatch"
    | "published_out_of_order"
    | "push_out_of_order";
  readonly chatId: string;
  readonly detail: string;
}

/** A message as storage holds it. */
export interface StoredRecord {
  readonly sequence: number;
  readonly messageId: string;
  readonly clientMessageId: string;
  readonly content: string;
}

/** One MessagePersisted event, as the checker's own consumer read it from `messages.persisted`. */
export interface PublishedEvent {
  readonly chatId: string;
  readonly sequence: number;
  readonly messageId: string;
  readonly content: string;
}

/** An ack a client received for one of its sends. */
export interface AckRecord {
  readonly chatId: string;
  readonly clientMessageId: string;
  readonly sequence: number;
  readonly messageId: string;
}

/**
 * The first copy of a message that reached a client, and how: a live push or a sync page. A client's own
 * messages are stored on their ack and are no receipt (unless the ack was lost and a sync brought them).
 */
export interface Receipt {
  readonly chatId: string;
  readonly sequence: number;
  readonly via: "push" | "sync";
}

export interface HeldMessage {
  readonly sequence: number;
  readonly messageId: string;
  readonly content: string;
}

export interface ClientRecord {
  readonly userId: string;
  readonly acks: readonly AckRecord[];
  /** First receipts, in arrival order (duplicates dropped, as the client dropped them). */
  readonly receipts: readonly Receipt[];
  /** What the client holds per chat once it converged, by sequence. */
  readonly held: ReadonlyMap<string, readonly HeldMessage[]>;
}

export interface CheckInput {
  /** Every chat of the run with its members' user ids. */
  readonly chats: ReadonlyMap<string, readonly string[]>;
  /** What storage holds per chat at the end, ascending. */
  readonly stored: ReadonlyMap<string, readonly StoredRecord[]>;
  readonly clients: readonly ClientRecord[];
  /** Every event of the run's chats on `messages.persisted` at the end; per chat in the order of the log. */
  readonly log: readonly PublishedEvent[];
  /**
   * The settle window after the workload, with every client offline: storage when it opened, and what the
   * log held when it closed. A message stored then must have been published by then, without the
   * activations that the clients' later syncs cause (those republish and would hide a lost publication).
   */
  readonly settled: {
    readonly stored: ReadonlyMap<string, readonly StoredRecord[]>;
    readonly published: readonly PublishedEvent[];
  };
  /** Samples of delivery_state taken during the run, per `user|chat`, in the order taken. */
  readonly deliverySamples: ReadonlyMap<string, readonly number[]>;
}

const key = (chatId: string, sequence: number) => `${chatId}#${sequence}`;

/**
 * (1) no acknowledged message lost; (2) storage without duplicates or gaps; (3) one order for every member and
 * every client converged on storage; (4) delivery_state never decreased; (5) every message stored before the
 * settle window published by its end; (6) every published event carries the stored message of its sequence,
 * and sequences first appear on the log in ascending order; (7) no client got a push below a sequence it had
 * already received.
 */
export function check(input: CheckInput): Violation[] {
  return [
    ...storageViolations(input.stored),
    ...ackViolations(input.clients, input.stored),
    ...convergenceViolations(input.chats, input.stored, input.clients),
    ...deliveryStateViolations(input.deliverySamples),
    ...publicationViolations(input),
    ...logOrderViolations(input.log),
    ...receiptOrderViolations(input.clients, input.log),
  ];
}

function storageViolations(stored: CheckInput["stored"]): Violation[] {
  const violations: Violation[] = [];
  for (const [chatId, messages] of stored) {
    messages.forEach((message, index) => {
      if (message.sequence !== index + 1) {
        violations.push({
          kind: "sequence_gap",
          chatId,
          detail: `position ${index + 1} holds sequence ${message.sequence}`,
        });
      }
    });
    const byClientId = new Map<string, number[]>();
    for (const message of messages)
      byClientId.set(message.clientMessageId, [
        ...(byClientId.get(message.clientMessageId) ?? []),
        message.sequence,
      ]);
    for (const [clientMessageId, sequences] of byClientId) {
      if (sequences.length > 1) {
        violations.push({
          kind: "duplicate_message",
          chatId,
          detail: `client_message_id ${clientMessageId} stored at sequences ${sequences.join(", ")}`,
        });
      }
    }
  }
  return violations;
}

const bySequence = (stored: CheckInput["stored"], chatId: string) =>
  new Map((stored.get(chatId) ?? []).map((message) => [message.sequence, message]));

function ackViolations(clients: readonly ClientRecord[], stored: CheckInput["stored"]): Violation[] {
  const violations: Violation[] = [];
  const lookups = new Map<string, Map<number, StoredRecord>>();
  for (const ack of clients.flatMap((client) => client.acks)) {
    let lookup = lookups.get(ack.chatId);
    if (lookup === undefined) {
      lookup = bySequence(stored, ack.chatId);
      lookups.set(ack.chatId, lookup);
    }
    const holder = lookup.get(ack.sequence);
    if (holder?.messageId !== ack.messageId || holder.clientMessageId !== ack.clientMessageId) {
      violations.push({
        kind: "acknowledged_message_lost",
        chatId: ack.chatId,
        detail: `ack of ${ack.clientMessageId} named sequence ${ack.sequence} (${ack.messageId}); storage holds ${holder === undefined ? "nothing" : `${holder.messageId}/${holder.clientMessageId}`}`,
      });
    }
  }
  return violations;
}

const signature = (messages: readonly HeldMessage[]) =>
  JSON.stringify(messages.map((m) => [m.sequence, m.messageId, m.content]));

function convergenceViolations(
  chats: CheckInput["chats"],
  stored: CheckInput["stored"],
  clients: readonly ClientRecord[],
): Violation[] {
  const violations: Violation[] = [];
  for (const [chatId, members] of chats) {
    const messages = stored.get(chatId) ?? [];
    const expected = signature(messages);
    let firstOrder: string | undefined;
    for (const client of clients) {
      if (!members.includes(client.userId)) continue;
      const held = client.held.get(chatId) ?? [];
      const seen = signature(held);
      firstOrder ??= seen;
      if (seen !== firstOrder) {
        violations.push({
          kind: "member_order_differs",
          chatId,
          detail: `${client.userId} saw another order than the first member`,
        });
      }
      if (seen !== expected) {
        violations.push({
          kind: "client_not_converged",
          chatId,
          detail: `${client.userId} holds ${held.length} messages, storage ${messages.length}`,
        });
      }
    }
  }
  return violations;
}

function deliveryStateViolations(samples: CheckInput["deliverySamples"]): Violation[] {
  const violations: Violation[] = [];
  for (const [pair, values] of samples) {
    for (let i = 1; i < values.length; i++) {
      if ((values[i] ?? 0) < (values[i - 1] ?? 0)) {
        violations.push({
          kind: "delivery_state_decreased",
          chatId: pair.split("|")[1] ?? "",
          detail: `${pair}: ${values[i - 1]} then ${values[i]}`,
        });
      }
    }
  }
  return violations;
}

/**
 * Invariant 5 without help from clients: what was stored when the settle window opened must be on the log when
 * it closed. What was stored later (sends retried once clients came back) must be on the log at the end. And
 * every event must carry the message storage holds at its sequence.
 */
function publicationViolations(input: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const settledKeys = new Set(input.settled.published.map((event) => key(event.chatId, event.sequence)));
  const finalKeys = new Set(input.log.map((event) => key(event.chatId, event.sequence)));
  for (const [chatId, messages] of input.settled.stored) {
    for (const message of messages) {
      if (settledKeys.has(key(chatId, message.sequence))) continue;
      const later = finalKeys.has(key(chatId, message.sequence));
      violations.push({
        kind: "message_not_published",
        chatId,
        detail: `sequence ${message.sequence} was stored before the settle window and not on messages.persisted when it closed${later ? " (published only after clients came back and synced)" : " (nor at the end)"}`,
      });
    }
  }
  for (const [chatId, messages] of input.stored) {
    const settledSequences = new Set((input.settled.stored.get(chatId) ?? []).map((m) => m.sequence));
    for (const message of messages) {
      if (settledSequences.has(message.sequence) || finalKeys.has(key(chatId, message.sequence))) continue;
      violations.push({
        kind: "message_not_published",
        chatId,
        detail: `sequence ${message.sequence}, stored after the settle window, never reached messages.persisted`,
      });
    }
  }
  const lookups = new Map<string, Map<number, StoredRecord>>();
  const reported = new Set<string>();
  for (const event of input.log) {
    let lookup = lookups.get(event.chatId);
    if (lookup === undefined) {
      lookup = bySequence(input.stored, event.chatId);
      lookups.set(event.chatId, lookup);
    }
    const holder = lookup.get(event.sequence);
    if (holder?.messageId === event.messageId && holder.content === event.content) continue;
    const which = `${key(event.chatId, event.sequence)} ${event.messageId} ${JSON.stringify(event.content)}`;
    if (reported.has(which)) continue;
    reported.add(which);
    violations.push({
      kind: "published_content_mismatch",
      chatId: event.chatId,
      detail: `event of sequence ${event.sequence} carries ${event.messageId} ${JSON.stringify(event.content)}; storage holds ${holder === undefined ? "nothing" : `${holder.messageId} ${JSON.stringify(holder.content)}`}`,
    });
  }
  return violations;
}

/**
 * D4: each owner publishes strictly in sequence order from a `published_through` that was really published,
 * so however two owners' events interleave and repeat, the FIRST appearance of each sequence on the log rises.
 */
function logOrderViolations(log: readonly PublishedEvent[]): Violation[] {
  const violations: Violation[] = [];
  const seen = new Map<string, Set<number>>();
  const highest = new Map<string, number>();
  for (const event of log) {
    const sequences = seen.get(event.chatId) ?? new Set<number>();
    seen.set(event.chatId, sequences);
    if (sequences.has(event.sequence)) continue;
    sequences.add(event.sequence);
    const top = highest.get(event.chatId) ?? 0;
    if (event.sequence < top) {
      violations.push({
        kind: "published_out_of_order",
        chatId: event.chatId,
        detail: `sequence ${event.sequence} first appeared on messages.persisted after ${top}`,
      });
    } else highest.set(event.chatId, event.sequence);
  }
  return violations;
}

/**
 * Pushes follow the log's first appearances (one fanout worker per partition, record order kept per gateway),
 * and a sync page is contiguous from its cursor (D3), so once a client received n, by push or by sync, a push
 * of a lower sequence it did not hold means a reordered delivery or a sync that skipped a message. Lower
 * sequences arriving through sync (a gap healed) are expected, and so are pushes of a sequence the log holds
 * more than once: an outbox republishes after a crash or a handoff (D4 allows duplicates), and a client
 * whose first push of it was skipped (a slow or restarted gateway) receives the republication later.
 */
function receiptOrderViolations(
  clients: readonly ClientRecord[],
  log: readonly PublishedEvent[],
): Violation[] {
  const appearances = new Map<string, number>();
  for (const event of log) {
    const at = key(event.chatId, event.sequence);
    appearances.set(at, (appearances.get(at) ?? 0) + 1);
  }
  const violations: Violation[] = [];
  for (const client of clients) {
    const highest = new Map<string, Receipt>();
    for (const receipt of client.receipts) {
      const top = highest.get(receipt.chatId);
      if (top === undefined || receipt.sequence > top.sequence) {
        highest.set(receipt.chatId, receipt);
      } else if (
        receipt.via === "push" &&
        (appearances.get(key(receipt.chatId, receipt.sequence)) ?? 0) < 2
      ) {
        violations.push({
          kind: "push_out_of_order",
          chatId: receipt.chatId,
          detail: `${client.userId} got a push of sequence ${receipt.sequence} after receiving ${top.sequence} (by ${top.via})`,
        });
      }
    }
  }
  return violations;
}
