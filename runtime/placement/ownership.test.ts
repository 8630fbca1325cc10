import { describe, expect, it } from "vitest";
import { MemoryNodeRegistry } from "../adapters/memory/node-registry.js";
import { MemoryRingStore } from "../adapters/memory/ring-store.js";
import { ManualClock } from "../clock.js";
import { AppError } from "../errors.js";
import type { ChatId } from "../ids.js";
import { createLogger } from "../logger.js";
import { ChatOwnership, REFUSAL_REFRESH_MIN_AGE_MS } from "./ownership.js";
import { RingView } from "./ring-view.js";

const logger = createLogger({ level: "silent" });
const chatId = "chat_0001" as ChatId;

/** Node B joins a ring where node A owned everything; B's own ring is read before the change. */
async function joiningNode() {
  const clock = new ManualClock();
  const nodes = new MemoryNodeRegistry({ clock });
  for (const nodeId of ["node-a", "node-b"]) {
    await nodes.heartbeat({ nodeId, role: "ingest", address: nodeId, startedAt: clock.now() }, 3_600_000);
  }
  const store = new MemoryRingStore(clock);
  await store.write(0, [{ nodeId: "node-a", weight: 100, state: "active" }]);
  // A long period: only a refusal can bring B's ring up to date within this test.
  const view = new RingView({ store, nodes, clock, logger, refreshMs: 3_600_000 });
  await view.refresh();
  const reads = { count: 0 };
  const read = store.read.bind(store);
  store.read = () => {
    reads.count++;
    return read();
  };
  const ownership = new ChatOwnership(
    "node-b",
    view,
    { activeKeys: () => [], passivate: async () => {} },
    logger,
  );
  await store.write(1, [
    { nodeId: "node-a", weight: 100, state: "draining" },
    { nodeId: "node-b", weight: 100, state: "active" },
  ]);
  return { clock, view, ownership, reads };
}

/** Lets the in-memory reads a refusal started finish (no timer is involved). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

const refusal = (ownership: ChatOwnership) => {
  try {
    ownership.check(chatId);
    return undefined;
  } catch (error) {
    return error;
  }
};

describe("a node's ownership check", () => {
  it("refreshes the node's ring when it refuses, so a caller's retry is served instead of refused again", async () => {
    const { clock, view, ownership } = await joiningNode();
    clock.advance(REFUSAL_REFRESH_MIN_AGE_MS);
    expect(refusal(ownership)).toMatchObject({ code: "NOT_OWNER", details: { ring_version: 1 } });
    await settle();
    expect(view.current().version).toBe(2);
    expect(refusal(ownership)).toBeUndefined();
  });

  it("reads the ring at most once per REFUSAL_REFRESH_MIN_AGE_MS however many calls it refuses", async () => {
    const { clock, view, ownership, reads } = await joiningNode();
    for (let i = 0; i < 100; i++) {
      expect(refusal(ownership)).toBeInstanceOf(AppError);
      await Promise.resolve();
    }
    // The snapshot was read at the start: no refusal may refresh before it is REFUSAL_REFRESH_MIN_AGE_MS old.
    expect(reads.count).toBe(0);
    clock.advance(REFUSAL_REFRESH_MIN_AGE_MS);
    for (let i = 0; i < 100; i++) refusal(ownership);
    await settle();
    // One read for the whole burst.
    expect(reads.count).toBe(1);
    expect(view.current().version).toBe(2);
  });
});
