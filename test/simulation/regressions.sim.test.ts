import { describe, expect, it } from "vitest";
import { MemoryChatStore } from "../../runtime/adapters/memory/chat-store.js";
import { InProcessEventLog } from "../../runtime/adapters/memory/event-log.js";
import { MemoryMessageStore } from "../../runtime/adapters/memory/message-store.js";
import { ManualClock } from "../../runtime/clock.js";
import { IdFactory } from "../../runtime/ids.js";
import type { PersistRequest, PersistResult } from "../../runtime/ingest-api.js";
import { TOPICS } from "../../runtime/topics.js";
import { seededRandom } from "../harness/backoff.js";
import { createActiveChat } from "../support/chats.js";
import { type OwnerTuning, SimOwner } from "./owner.js";
import { quiesce, StepScheduler } from "./scheduler.js";

/**
 * Interleavings the simulation found, replayed step by step with the scheduler's scripted releases, so that
 * each stays a test of its own whatever becomes of the seed that found it.
 */
const TUNING: OwnerTuning = {
  blockMaxMessages: 1,
  indexBatchMessages: 256,
  recentSendsLimit: 1_000,
  memoryLimit: 100_000,
};

async function twoOwners() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const store = new MemoryMessageStore({ clock });
  const chatStore = new MemoryChatStore({ clock });
  const eventLog = new InProcessEventLog({ clock });
  await eventLog.ensureTopics([{ name: TOPICS.messagesPersisted, partitions: 1 }]);
  const scheduler = new StepScheduler(seededRandom(1));
  const world = { store, chatStore, eventLog, clock, scheduler, onLog: () => {} };
  const ids = new IdFactory(clock, () => new Uint8Array(10).fill(1));
  const sender = ids.user();
  const chatId = await createActiveChat(chatStore, { ids, clock }, [sender]);
  const send = (clientMessageId: string): PersistRequest => ({
    chatId,
    senderId: sender,
    clientMessageId,
    content: clientMessageId,
    contentType: "text/plain",
  });
  const a = new SimOwner("a", TUNING, world, seededRandom(2));
  const b = new SimOwner("b", TUNING, world, seededRandom(3));
  /** Releases `owner`'s requests, in order, until `done` holds. */
  const runOwner = async (owner: SimOwner, done: () => boolean) => {
    for (let step = 0; step < 100 && !done(); step++) {
      await quiesce();
      if (!done()) await scheduler.releaseMatching(owner.name, /./);
    }
    await quiesce();
  };
  const step = async (owner: SimOwner, label: RegExp) => {
    await quiesce();
    await scheduler.releaseMatching(owner.name, label);
    await quiesce();
  };
  return { a, b, send, runOwner, step, scheduler };
}

/** The answer of a persist, once it has come (undefined before). */
function answerOf(persisted: Promise<PersistResult>): () => PersistResult | undefined {
  let answer: PersistResult | undefined;
  persisted.then((result) => {
    answer = result;
  });
  return () => answer;
}

describe("interleavings found by the write-path simulation", () => {
  /**
   * Found as `npm run simulate -- --family split-brain --seed 337`. An activation's scan (readBlocksAfter) is
   * two queries on DynamoDB: the block holding `after + 1`, then the blocks from `after + 2` on. When another
   * owner puts the block at `after + 1` between them, the scan returns the blocks above it without it, the tail
   * moves past a block memory never held (rule 2), and a retry of that block's client_message_id, not in the
   * index yet, is written a second time (invariant 2).
   */
  it("rule 2: a scan whose two queries straddle another owner's put still loads that block", async () => {
    const { a, b, send, runOwner, step } = await twoOwners();
    // Owner a activates to write x: its scan's first query finds no block holding sequence 1 …
    const x = answerOf(a.persist(send("x")));
    await step(a, /^getCounters/);
    await step(a, /^query first<=1 desc/);
    // … then owner b writes c1 at 1 and c2 at 2 (block cap 1) …
    const c1 = answerOf(b.persist(send("c1")));
    const c2 = answerOf(b.persist(send("c2")));
    await runOwner(b, () => c1() !== undefined && c2() !== undefined);
    expect(c1()?.sequence).toBe(1);
    // … and a's scan goes on with the blocks above 1, then writes x.
    await runOwner(a, () => x() !== undefined);
    // The client retries c1 through a (its first attempt timed out, say): it is the message stored at 1.
    const retried = answerOf(a.persist(send("c1")));
    await runOwner(a, () => retried() !== undefined);
    expect(retried()).toMatchObject({ sequence: 1, messageId: c1()?.messageId, deduplicated: true });
  });
});
