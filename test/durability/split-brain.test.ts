import { setImmediate as nextTurn } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import { isAppError } from "../../runtime/errors.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { PersistRequest, PersistResult } from "../../runtime/ingest-api.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import { seededRandom } from "../harness/backoff.js";
import { engineEndpoint } from "../support/engines.js";
import { type IngestFixture, ingestFixture } from "../support/ingest-fixture.js";
import { waitFor } from "../support/wait-for.js";

const dynamodb = engineEndpoint("dynamodb");
const kafka = engineEndpoint("kafka");

/** Distinct client_message_ids, i.e. messages that must end up stored exactly once each. */
const MESSAGES = 1_000;
/** Share of them sent a second time, always through the other runtime. */
const RETRY_SHARE = 0.3;
/** persist calls in flight at once, over both runtimes. */
const IN_FLIGHT = 16;
/** A call rejected with SERVICE_UNAVAILABLE is repeated (same client_message_id) at most this often. */
const MAX_ATTEMPTS = 20;

/**
 * How the retry of a send meets its original: both issued at once, the retry a few event-loop turns into the
 * original's flight, right after the original's answer, or much later (after other sends went by).
 */
const RETRY_MODES = ["concurrent", "overlapping", "after", "later"] as const;
type RetryMode = (typeof RETRY_MODES)[number];

/** At most `permits` holders at once; waiters are served in arrival order. */
class Permits {
  private readonly waiting: Array<() => void> = [];
  constructor(private free: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.free++;
    }
  }
}

interface Outcome {
  readonly runtime: "A" | "B";
  readonly retry: boolean;
  readonly result: PersistResult;
  readonly attempts: number;
}

interface CallCounts {
  calls: number;
  rejections: number;
  mostAttempts: number;
}

/** A client's send: repeated with the same client_message_id while it is rejected as SERVICE_UNAVAILABLE. */
async function persistUntilAccepted(
  runtime: IngestService,
  request: PersistRequest,
  permits: Permits,
  counts: CallCounts,
): Promise<{ result: PersistResult; attempts: number }> {
  for (let attempts = 1; ; attempts++) {
    try {
      counts.calls++;
      const result = await permits.run(() => runtime.persist(request));
      counts.mostAttempts = Math.max(counts.mostAttempts, attempts);
      return { result, attempts };
    } catch (error) {
      if (!isAppError(error) || error.code !== "SERVICE_UNAVAILABLE" || attempts >= MAX_ATTEMPTS) throw error;
      counts.rejections++;
      await nextTurn();
    }
  }
}

/**
 * D5's claim: two ingest processes that both believe they own a chat (split brain) never produce duplicate
 * sequences or duplicate messages, because the conditional writes of D2 are the authority. Real dynalite and
 * Kafka; only the clock is fake.
 */
describe.skipIf(!dynamodb || !kafka)("split brain: two owners of one chat", () => {
  let fixture: IngestFixture;
  let runtimes: { readonly A: IngestService; readonly B: IngestService };
  const observed = { conflicts: 0, reloads: 0 };

  beforeAll(async () => {
    fixture = await ingestFixture({ dynamodb: dynamodb ?? "", kafka: kafka ?? "" });
    runtimes = {
      A: fixture.runtime({ producerId: "ingest-a" }),
      B: fixture.runtime({ producerId: "ingest-b" }),
    };
    // Counting spies on the one real store both runtimes share: block puts that were taken, and reloads that
    // found the other owner's blocks, are how a runtime learns that the other one extended the chain (D16).
    // The tests assert that they happened, so none of them can pass without the two owners interleaving.
    const store = fixture.messageStore;
    const append = store.appendBlock.bind(store);
    store.appendBlock = async (chatId, messages) => {
      const outcome = await append(chatId, messages);
      if (outcome === "taken") observed.conflicts++;
      return outcome;
    };
    const readBlocks = store.readBlocksAfter.bind(store);
    store.readBlocksAfter = async (chatId, after) => {
      const blocks = await readBlocks(chatId, after);
      if (after > 0 && blocks.length > 0) observed.reloads++;
      return blocks;
    };
  });
  afterAll(async () => {
    await runtimes?.A.shutdown();
    await runtimes?.B.shutdown();
    await fixture?.cleanup();
  });

  async function readAllStored(chatId: ChatId): Promise<StoredMessage[]> {
    const all: StoredMessage[] = [];
    for (;;) {
      const page = await fixture.messageStore.readMessages(chatId, {
        after: all.at(-1)?.sequence ?? 0,
        limit: 1_000,
        order: "asc",
      });
      if (page.length === 0) return all;
      all.push(...page);
    }
  }

  async function syncAll(runtime: IngestService, chatId: ChatId, userId: UserId): Promise<StoredMessage[]> {
    const all: StoredMessage[] = [];
    for (;;) {
      const page = await runtime.sync({
        chatId,
        userId,
        afterSequence: all.at(-1)?.sequence ?? 0,
        limit: 500,
      });
      all.push(...page.messages);
      if (!page.hasMore) return all;
    }
  }

  it("1,000 sends with 30% retried through the other owner store every message exactly once, at 1..N", async () => {
    const started = Date.now();
    const before = { ...observed };
    const random = seededRandom(Number(process.env.SPLIT_BRAIN_SEED ?? 20_260_101));
    const members = [fixture.ids.user(), fixture.ids.user(), fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith(members);
    const permits = new Permits(IN_FLIGHT);
    const outcomes = new Map<string, Outcome[]>();
    const counts = { calls: 0, retries: 0, rejections: 0, mostAttempts: 0 };
    const modes = new Map<RetryMode, number>(RETRY_MODES.map((mode) => [mode, 0]));

    /** One send as a client does it: repeated with the same client_message_id until it is accepted. */
    const sendUntilAccepted = async (name: "A" | "B", request: PersistRequest, retry: boolean) => {
      const { result, attempts } = await persistUntilAccepted(runtimes[name], request, permits, counts);
      outcomes.get(request.clientMessageId)?.push({ runtime: name, retry, result, attempts });
    };

    const queue: Array<() => Promise<void>> = [];
    for (let index = 0; index < MESSAGES; index++) {
      const request: PersistRequest = {
        chatId,
        senderId: members[index % members.length] as UserId,
        clientMessageId: crypto.randomUUID(),
        content: `message ${index}`,
        contentType: "text/plain",
      };
      outcomes.set(request.clientMessageId, []);
      const first = random() < 0.5 ? "A" : "B";
      const other = first === "A" ? "B" : "A";
      const mode =
        random() < RETRY_SHARE ? RETRY_MODES[Math.floor(random() * RETRY_MODES.length)] : undefined;
      if (mode !== undefined) modes.set(mode, (modes.get(mode) ?? 0) + 1);
      const original = () => sendUntilAccepted(first, request, false);
      const retry = () => {
        counts.retries++;
        return sendUntilAccepted(other, request, true);
      };
      switch (mode) {
        case undefined:
          queue.push(original);
          break;
        case "concurrent":
          queue.push(async () => void (await Promise.all([original(), retry()])));
          break;
        case "overlapping":
          queue.push(async () => {
            const pending = original();
            for (let turn = Math.floor(random() * 4); turn > 0; turn--) await nextTurn();
            await Promise.all([pending, retry()]);
          });
          break;
        case "after":
          queue.push(async () => {
            await original();
            await retry();
          });
          break;
        case "later":
          // Queued again 16..256 tasks further on, once the original was answered.
          queue.push(async () => {
            await original();
            queue.splice(Math.min(queue.length, 16 + Math.floor(random() * 240)), 0, retry);
          });
          break;
      }
    }
    // Workers pull tasks until none is left; a task that queues another keeps pulling, so none is stranded.
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let task = queue.shift(); task !== undefined; task = queue.shift()) await task();
      }),
    );
    const sendMs = Date.now() - started;

    const stored = await readAllStored(chatId);
    const problems: string[] = [];
    // Invariant 1 and D3: exactly 1..N, one message per client_message_id and per message_id.
    stored.forEach((message, index) => {
      if (message.sequence !== index + 1)
        problems.push(`stored position ${index + 1} holds ${message.sequence}`);
    });
    const byClientId = new Map<string, StoredMessage[]>();
    for (const message of stored) {
      byClientId.set(message.clientMessageId, [...(byClientId.get(message.clientMessageId) ?? []), message]);
    }
    for (const [clientMessageId, copies] of byClientId) {
      if (copies.length > 1)
        problems.push(`${clientMessageId} stored ${copies.length}x at ${copies.map((m) => m.sequence)}`);
    }
    const messageIds = new Set(stored.map((message) => message.messageId));
    if (messageIds.size !== stored.length)
      problems.push(`${stored.length} stored messages carry ${messageIds.size} distinct message_ids`);
    // Invariant 2: every accepted call, original or retry, names the one stored message of its id.
    for (const [clientMessageId, results] of outcomes) {
      const [first] = results;
      if (first === undefined) {
        problems.push(`${clientMessageId} was never accepted`);
        continue;
      }
      for (const { runtime, retry, result } of results) {
        const holder = stored[result.sequence - 1];
        if (holder?.clientMessageId !== clientMessageId || holder.messageId !== result.messageId) {
          problems.push(
            `${clientMessageId} (${retry ? "retry" : "original"} on ${runtime}) acked ${result.sequence}/${result.messageId}, stored there: ${holder?.clientMessageId}/${holder?.messageId}`,
          );
        }
        if (result.sequence !== first.result.sequence || result.messageId !== first.result.messageId) {
          problems.push(`${clientMessageId} answered ${first.result.sequence} and ${result.sequence}`);
        }
      }
    }
    const deduplicated = [...outcomes.values()].flat().filter((outcome) => outcome.result.deduplicated);
    console.log(
      `[split-brain] ${MESSAGES} messages, ${counts.calls} persist calls (${counts.retries} retries through the other owner: ${[...modes].map(([mode, n]) => `${n} ${mode}`).join(", ")}), ` +
        `${counts.rejections} SERVICE_UNAVAILABLE rejections (most attempts of one call: ${counts.mostAttempts}), ` +
        `${deduplicated.length} answers flagged deduplicated, ${observed.conflicts} fencing conflicts, ` +
        `${observed.reloads} reloads that found blocks, ${fixture.events.of(chatId).length} events so far; ` +
        `sends ${sendMs} ms, ${stored.length} stored; checks ${Date.now() - started - sendMs} ms`,
    );
    expect(problems.slice(0, 20), `${problems.length} problems`).toEqual([]);
    // The interleavings this test is about: one owner's block put refused because the other extended the
    // chain, and the other owner's blocks read into memory before anything more was written.
    expect(observed.conflicts - before.conflicts, "fencing conflicts").toBeGreaterThan(0);
    expect(observed.reloads - before.reloads, "reloads that found blocks").toBeGreaterThan(0);
    expect(stored).toHaveLength(MESSAGES);
    expect(stored.map((message) => message.sequence)).toEqual(
      Array.from({ length: MESSAGES }, (_, i) => i + 1),
    );

    // Invariant 3: either owner's sync returns all of them, in the one stored order.
    const reader = members[1] as UserId;
    const expected = stored.map((message) => [message.sequence, message.messageId]);
    for (const runtime of [runtimes.A, runtimes.B]) {
      const synced = await syncAll(runtime, chatId, reader);
      expect(synced.map((message) => [message.sequence, message.messageId])).toEqual(expected);
    }

    // Invariant 5 (D4): the union of both outboxes publishes every sequence, each with the stored message.
    await waitFor(() => fixture.events.sequencesOf(chatId).length >= MESSAGES, {
      timeoutMs: 20_000,
      what: `${MESSAGES} published sequences`,
    });
    expect(fixture.events.sequencesOf(chatId)).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
    const misPublished = fixture.events
      .of(chatId)
      .filter((event) => stored[event.sequence - 1]?.messageId !== event.message_id);
    expect(misPublished).toEqual([]);
  }, 90_000);

  it("a send made once is answered as not deduplicated, even when the other owner fenced it", async () => {
    const members = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith(members);
    const permits = new Permits(IN_FLIGHT);
    const counts: CallCounts = { calls: 0, rejections: 0, mostAttempts: 0 };
    const conflictsBefore = observed.conflicts;
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        persistUntilAccepted(
          index % 2 === 0 ? runtimes.A : runtimes.B,
          {
            chatId,
            senderId: members[index % 2] as UserId,
            clientMessageId: crypto.randomUUID(),
            content: `once ${index}`,
            contentType: "text/plain",
          },
          permits,
          counts,
        ),
      ),
    );
    // A call accepted at its first attempt was the first time its client_message_id was received.
    const firstTime = answers.filter((answer) => answer.attempts === 1);
    const flagged = firstTime.filter((answer) => answer.result.deduplicated).map((a) => a.result.sequence);
    console.log(
      `[split-brain] 200 single sends: ${observed.conflicts - conflictsBefore} fencing conflicts, ` +
        `${counts.rejections} rejections, ${flagged.length} of ${firstTime.length} first-time answers flagged deduplicated`,
    );
    expect(observed.conflicts - conflictsBefore, "fencing conflicts").toBeGreaterThan(0);
    expect(flagged).toEqual([]);
  });
});
