import type { MessagePersistedPayload } from "../../runtime/events.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { PersistRequest } from "../../runtime/ingest-api.js";
import type { MessageStore, StoredMessage } from "../../runtime/ports/message-store.js";
import type { AckSeen, Answer, SyncSeen } from "./clients.js";

/**
 * ARCHITECTURE.md §6 invariants 1-5, and the D16 facts they rest on, checked on the shared store (read directly,
 * not through any owner) once a run has settled and a fresh owner has recovered the chat. Returns one line per
 * violation; none means the run kept every invariant.
 */
export interface FinalState {
  readonly store: MessageStore;
  readonly chatId: ChatId;
  readonly members: readonly UserId[];
  /** Every distinct send the clients made (the first request of each client_message_id). */
  readonly sends: readonly PersistRequest[];
  readonly answers: readonly Answer[];
  readonly syncs: readonly SyncSeen[];
  readonly acks: readonly AckSeen[];
  /** MessagePersisted events of the log, in log order. */
  readonly events: readonly MessagePersistedPayload[];
  /** Owners that crashed (their write-behind of acks died with them). */
  readonly crashed: ReadonlySet<string>;
  readonly now: number;
}

const same = (a: StoredMessage, b: StoredMessage): boolean =>
  a.sequence === b.sequence &&
  a.messageId === b.messageId &&
  a.clientMessageId === b.clientMessageId &&
  a.content === b.content &&
  a.senderId === b.senderId &&
  a.createdAt === b.createdAt;

export async function checkInvariants(state: FinalState): Promise<string[]> {
  const violations: string[] = [];
  const fail = (line: string) => violations.push(line);
  const { store, chatId } = state;

  // Invariant 1 and D16's chain: blocks with neither overlaps nor gaps, from 1; one message per cmid and id.
  const blocks = await store.readBlocksAfter(chatId, 0);
  const stored: StoredMessage[] = [];
  let expected = 1;
  for (const block of blocks) {
    if (block.firstSequence !== expected)
      fail(
        `invariant 1 (rule 1): block ${block.firstSequence}..${block.lastSequence} follows ${expected - 1} ` +
          `(${block.firstSequence < expected ? "overlap" : "gap"})`,
      );
    if (block.messages.length !== block.lastSequence - block.firstSequence + 1)
      fail(`block ${block.firstSequence}..${block.lastSequence} holds ${block.messages.length} messages`);
    for (const message of block.messages) stored.push(message);
    expected = Math.max(expected, block.lastSequence + 1);
  }
  const tail = stored.at(-1)?.sequence ?? 0;
  const byCmid = new Map<string, StoredMessage>();
  const byMessageId = new Map<string, StoredMessage>();
  for (const message of stored) {
    const twin = byCmid.get(message.clientMessageId);
    if (twin !== undefined)
      fail(
        `invariant 2: ${message.clientMessageId} stored twice, at ${twin.sequence} and ${message.sequence}`,
      );
    else byCmid.set(message.clientMessageId, message);
    const idTwin = byMessageId.get(message.messageId);
    if (idTwin !== undefined)
      fail(`invariant 1: message_id ${message.messageId} at ${idTwin.sequence} and ${message.sequence}`);
    else byMessageId.set(message.messageId, message);
  }

  // Every stored message is one a client sent, as it sent it.
  const sent = new Map(state.sends.map((request) => [request.clientMessageId, request]));
  for (const message of stored) {
    const request = sent.get(message.clientMessageId);
    if (request === undefined) fail(`seq ${message.sequence}: ${message.clientMessageId} was never sent`);
    else if (request.content !== message.content || request.senderId !== message.senderId)
      fail(`seq ${message.sequence}: ${message.clientMessageId} stored with another content or sender`);
  }

  // Invariant 2 (and D1, rule 6): every acknowledged answer is the stored message of its cmid.
  for (const { clientMessageId, owner, result } of state.answers) {
    const message = byCmid.get(clientMessageId);
    if (message === undefined) {
      fail(
        `invariant 3 (D1): ${clientMessageId} was acknowledged by ${owner} (seq ${result.sequence}) but is not stored`,
      );
      continue;
    }
    if (
      message.sequence !== result.sequence ||
      message.messageId !== result.messageId ||
      message.createdAt !== result.createdAt
    )
      fail(
        `invariant 2 (rule 6): ${owner} answered ${clientMessageId} with seq ${result.sequence} ` +
          `${result.messageId} @${result.createdAt}; stored: seq ${message.sequence} ${message.messageId} ` +
          `@${message.createdAt}`,
      );
  }
  for (const request of state.sends)
    if (!state.answers.some((answer) => answer.clientMessageId === request.clientMessageId))
      fail(`${request.clientMessageId} was never acknowledged, though every send was retried until it was`);

  // Invariant 3 and rule 7: a read after any position starts right after it and returns the chain in order,
  // whatever the block caps were; sync pages seen during the run were exactly the stored messages.
  for (let after = 0; after <= tail; after++) {
    for (const limit of [1, 2, 3, 1000]) {
      const page = await store.readMessages(chatId, { after, limit, order: "asc" });
      const want = stored.slice(after, after + limit);
      if (
        page.length !== want.length ||
        page.some((message, index) => !same(message, want[index] as StoredMessage))
      )
        fail(
          `invariant 3 (rule 7): read after ${after} limit ${limit} gave ` +
            `[${page.map((message) => message.sequence).join(",")}], not [${want.map((m) => m.sequence).join(",")}]`,
        );
    }
    // History (descending) through `after + 1`: the three messages at or below it.
    const through = Math.min(after + 1, tail);
    const down = await store.readMessages(chatId, { before: after + 2, limit: 3, order: "desc" });
    const wantDown = stored.slice(Math.max(0, through - 3), through).reverse();
    if (
      down.length !== wantDown.length ||
      down.some((message, index) => !same(message, wantDown[index] as StoredMessage))
    )
      fail(
        `invariant 3 (rule 7): history before ${after + 2} gave [${down.map((m) => m.sequence).join(",")}]`,
      );
  }
  for (const { owner, after, result } of state.syncs) {
    result.messages.forEach((message, index) => {
      const want = stored[after + index];
      if (message.sequence !== after + 1 + index)
        fail(`D3: sync via ${owner} after ${after} returned seq ${message.sequence} at position ${index}`);
      else if (want === undefined || !same(message, want))
        fail(
          `invariant 3: sync via ${owner} after ${after} returned seq ${message.sequence} unlike the store`,
        );
    });
  }

  // Rules 3, 4, 8: indexed_through within the chain, and every message at or below it has its record (its own
  // sequence and message_id); no record anywhere contradicts the store.
  const counters = await store.getCounters(chatId);
  const indexedThrough = counters?.indexedThrough ?? 0;
  if (indexedThrough > tail) fail(`rule 3: indexed_through ${indexedThrough} is above the tail ${tail}`);
  if ((counters?.publishedThrough ?? 0) > tail)
    fail(`D4: published_through ${counters?.publishedThrough} is above the tail ${tail}`);
  if ((counters?.highWater ?? 0) > tail) fail(`high_water ${counters?.highWater} is above the tail ${tail}`);
  // Progress: the final owner drained with no faults, so its index and outbox caught up with the whole chain.
  if (indexedThrough !== tail)
    fail(`rule 3 (progress): after the final drain indexed_through is ${indexedThrough}, tail ${tail}`);
  if ((counters?.publishedThrough ?? 0) !== tail)
    fail(
      `D4 (progress): after the final drain published_through is ${counters?.publishedThrough ?? 0}, tail ${tail}`,
    );
  const records = await store.getIndexRecords(
    state.sends.map((request) => ({ chatId, clientMessageId: request.clientMessageId })),
  );
  const recordOf = new Map(records.map((record) => [record.clientMessageId, record]));
  for (const message of stored) {
    const record = recordOf.get(message.clientMessageId);
    if (
      message.sequence <= indexedThrough &&
      record === undefined &&
      message.createdAt + 7 * 86_400_000 >= state.now
    )
      fail(
        `rule 3: seq ${message.sequence} (${message.clientMessageId}) is at or below indexed_through ${indexedThrough} without an index record`,
      );
  }
  for (const record of records) {
    const message = byCmid.get(record.clientMessageId);
    if (
      message === undefined ||
      message.sequence !== record.sequence ||
      message.messageId !== record.messageId
    )
      fail(
        `rule 4: index record ${record.clientMessageId} -> seq ${record.sequence} ${record.messageId} ` +
          `is not a stored message (${message === undefined ? "none stored" : `stored at ${message.sequence}`})`,
      );
    else if (record.expiresAt !== message.createdAt + 7 * 86_400_000)
      fail(
        `rule 8: index record ${record.clientMessageId} expires at ${record.expiresAt}, not created_at + 7 days`,
      );
  }

  // Invariant 4 and rule 9: delivery_state within the chain; an ack's answer never above what was stored; an
  // ack of a stored sequence taken by an owner that lived to drain is stored.
  for (const userId of state.members) {
    const delivery = (await store.getDeliveryState(userId, chatId))?.lastAckedSequence ?? 0;
    if (delivery > tail)
      fail(`invariant 4: delivery_state of ${userId} is ${delivery}, above the tail ${tail}`);
    for (const ack of state.acks.filter((seen) => seen.userId === userId)) {
      if (ack.result.lastAckedSequence > ack.storedAtReply)
        fail(
          `rule 9: ack via ${ack.owner} reported ${ack.result.lastAckedSequence}, stored was ${ack.storedAtReply}`,
        );
      if (!state.crashed.has(ack.owner) && ack.sequence <= tail && delivery < ack.sequence)
        fail(
          `rule 9: ack of ${ack.sequence} by ${userId} via ${ack.owner} was taken but delivery_state is ${delivery}`,
        );
    }
  }

  // Invariant 5 (D4): after the final recovery every stored message is on the log, as stored; sequences first
  // appear in ascending order (the outbox publishes strictly in order, whichever owner publishes).
  const published = new Set<number>();
  let highest = 0;
  for (const event of state.events) {
    if (event.chat_id !== chatId) continue;
    const message = stored[event.sequence - 1];
    if (
      message === undefined ||
      message.messageId !== event.message_id ||
      message.clientMessageId !== event.client_message_id ||
      message.content !== event.content
    )
      fail(
        `invariant 5: event of seq ${event.sequence} (${event.client_message_id}) is not the stored message`,
      );
    if (!published.has(event.sequence)) {
      if (event.sequence !== highest + 1)
        fail(`D4: seq ${event.sequence} first published after ${highest} (out of order, or a hole)`);
      published.add(event.sequence);
      highest = Math.max(highest, event.sequence);
    }
  }
  const missing = stored
    .filter((message) => !published.has(message.sequence))
    .map((message) => message.sequence);
  if (missing.length > 0)
    fail(`invariant 5: stored but never published after recovery: ${missing.join(",")}`);

  return violations;
}
