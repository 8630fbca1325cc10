import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryNodeRegistry } from "../../runtime/adapters/memory/node-registry.js";
import { MemoryRingStore } from "../../runtime/adapters/memory/ring-store.js";
import { AppError } from "../../runtime/errors.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { IngestApi } from "../../runtime/ingest-api.js";
import { createLogger } from "../../runtime/logger.js";
import { ChatOwnership } from "../../runtime/placement/ownership.js";
import type { RingMember } from "../../runtime/placement/ring-config.js";
import { RingView } from "../../runtime/placement/ring-view.js";
import { RoutedIngestClient } from "../../runtime/placement/routed-ingest.js";
import type { RingStore } from "../../runtime/ports/ring-store.js";
import { engineEndpoint } from "../support/engines.js";
import { type IngestFixture, ingestFixture } from "../support/ingest-fixture.js";
import { waitFor } from "../support/wait-for.js";
import { expectInvariants } from "./workload.js";

/**
 * Two ingest nodes that disagree about the ring (D5): node A still holds version 1, where it owns every chat;
 * version 2 drained A, so node B owns every chat. Callers holding either ring send to "their" owner at the
 * same time, retries included. DynamoDB's conditional writes are the authority (D2), so no sequence is
 * written twice and no client_message_id is stored twice, whoever believed what.
 */
const dynamodb = engineEndpoint("dynamodb");
const kafka = engineEndpoint("kafka");

/** A ring store that can be pointed elsewhere: a node whose next refresh reads the newer configuration. */
class SwitchableRingStore implements RingStore {
  constructor(public target: RingStore) {}
  read() {
    return this.target.read();
  }
  write(expectedVersion: number, members: readonly RingMember[]) {
    return this.target.write(expectedVersion, members);
  }
}

describe.skipIf(!dynamodb)("a stale ring", () => {
  const logger = createLogger({ level: "silent" });
  let fixture: IngestFixture;
  let staleView: RingView;
  let freshView: RingView;
  let nodeA: IngestApi;
  let nodeB: IngestApi;
  let ownershipA: ChatOwnership;
  let trueStore: MemoryRingStore;
  let staleStore: SwitchableRingStore;
  let registry: MemoryNodeRegistry;

  beforeAll(async () => {
    fixture = await ingestFixture({ dynamodb: dynamodb ?? "", ...(kafka ? { kafka } : {}) });
    const { clock } = fixture;
    registry = new MemoryNodeRegistry({ clock });
    for (const nodeId of ["node-a", "node-b"]) {
      await registry.heartbeat(
        { nodeId, role: "ingest", address: nodeId, startedAt: clock.now() },
        3_600_000,
      );
    }
    const version1 = new MemoryRingStore(clock);
    await version1.write(0, [{ nodeId: "node-a", weight: 100, state: "active" }]);
    staleStore = new SwitchableRingStore(version1);
    trueStore = new MemoryRingStore(clock);
    await trueStore.write(0, [{ nodeId: "node-a", weight: 100, state: "active" }]);
    await trueStore.write(1, [
      { nodeId: "node-a", weight: 100, state: "draining" },
      { nodeId: "node-b", weight: 100, state: "active" },
    ]);
    staleView = new RingView({ store: staleStore, nodes: registry, clock, logger, refreshMs: 1_000 });
    freshView = new RingView({ store: trueStore, nodes: registry, clock, logger, refreshMs: 1_000 });
    await Promise.all([staleView.refresh(), freshView.refresh()]);

    let checkA: ChatOwnership | undefined;
    const serviceA = fixture.runtime({
      producerId: "node-a",
      ownership: { check: (id) => checkA?.check(id) },
    });
    ownershipA = new ChatOwnership("node-a", staleView, serviceA.host, logger);
    checkA = ownershipA;
    let checkB: ChatOwnership | undefined;
    const serviceB = fixture.runtime({
      producerId: "node-b",
      ownership: { check: (id) => checkB?.check(id) },
    });
    checkB = new ChatOwnership("node-b", freshView, serviceB.host, logger);
    nodeA = serviceA;
    nodeB = serviceB;
  }, 60_000);

  afterAll(() => fixture?.cleanup(), 60_000);

  /** A router's ring, read at version 1 (node A owns every chat); point its store at trueStore to move on. */
  const routerOnVersion1 = async () => {
    const version1 = new MemoryRingStore(fixture.clock);
    await version1.write(0, [{ nodeId: "node-a", weight: 100, state: "active" }]);
    const routerStore = new SwitchableRingStore(version1);
    const routerView = new RingView({
      store: routerStore,
      nodes: registry,
      clock: fixture.clock,
      logger,
      refreshMs: 1_000,
    });
    await routerView.refresh();
    return { routerStore, routerView };
  };

  it("both owners accept writes, yet every sequence and every client_message_id is stored once", async () => {
    expect(staleView.current().ownerIdOf("chat_any")).toBe("node-a");
    expect(freshView.current().ownerIdOf("chat_any")).toBe("node-b");
    const chats: { chatId: ChatId; sender: UserId }[] = [];
    for (let i = 0; i < 6; i++) {
      const sender = fixture.ids.user();
      chats.push({ chatId: await fixture.chatWith([sender, fixture.ids.user()]), sender });
    }
    const acked: Parameters<typeof expectInvariants>[3][number][] = [];
    await Promise.all(
      chats.flatMap(({ chatId, sender }) =>
        Array.from({ length: 12 }, async (_, i) => {
          const clientMessageId = randomUUID();
          const content = `split-${i}`;
          const request = {
            chatId,
            senderId: sender,
            clientMessageId,
            content,
            contentType: "text/plain" as const,
          };
          // Every third send is retried on the other owner at once, as a client that timed out would.
          const targets = i % 3 === 0 ? [nodeA, nodeB] : [i % 2 === 0 ? nodeA : nodeB];
          const results = await Promise.all(targets.map((node) => node.persist(request)));
          for (const result of results) {
            expect(result.sequence).toBe(results[0]?.sequence);
            expect(result.messageId).toBe(results[0]?.messageId);
          }
          const first = results[0];
          if (first !== undefined) {
            acked.push({
              chatId,
              clientMessageId,
              content,
              sequence: first.sequence,
              messageId: first.messageId,
              latencyMs: 0,
            });
          }
        }),
      ),
    );
    await expectInvariants(fixture.messageStore, nodeB, chats, acked);
    for (const { chatId } of chats) {
      const stored = await fixture.messageStore.readMessages(chatId, { limit: 1000, order: "asc" });
      expect(stored).toHaveLength(12);
    }
    if (kafka) {
      // Invariant 5: every stored sequence was published, whichever owner wrote it.
      for (const { chatId } of chats) {
        await waitFor(() => fixture.events.sequencesOf(chatId).length === 12, {
          timeoutMs: 20_000,
          what: "events",
        });
        expect(fixture.events.sequencesOf(chatId)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      }
    }
  }, 60_000);

  it("a router keeps one chat's sends in order when the chat's owner changes under them", async () => {
    const sender = fixture.ids.user();
    const chatId = await fixture.chatWith([sender, fixture.ids.user()]);
    // The router starts on version 1 (node A, which still accepts: its own ring is stale too).
    const { routerStore, routerView } = await routerOnVersion1();
    // Node A is slow: the first send waits at A until released.
    let release: () => void = () => {};
    const atA = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowA: IngestApi = {
      persist: async (request) => {
        await atA;
        return nodeA.persist(request);
      },
      sync: (request) => nodeA.sync(request),
      ack: (request) => nodeA.ack(request),
    };
    const router = new RoutedIngestClient({
      view: routerView,
      clock: fixture.clock,
      logger,
      connect: (address) => Object.assign(address === "node-a" ? slowA : nodeB, { close: () => {} }),
    });
    const send = (content: string) =>
      router.persist({
        chatId,
        senderId: sender,
        clientMessageId: randomUUID(),
        content,
        contentType: "text/plain",
      });
    const first = send("first");
    // The router learns version 2 (node B) while the first send is still at A.
    routerStore.target = trueStore;
    await routerView.refresh();
    let secondSettled = false;
    const second = send("second").finally(() => {
      secondSettled = true;
    });
    // Unordered, the second send would be stored by B now; ordered, it waits for the first.
    await waitFor(() => secondSettled, { timeoutMs: 500, what: "the second send" }).catch(() => {});
    release();
    const [one, two] = await Promise.all([first, second]);
    expect(one.sequence).toBeLessThan(two.sequence);
    const stored = await fixture.messageStore.readMessages(chatId, { limit: 10, order: "asc" });
    expect(stored.map((message) => message.content)).toEqual(["first", "second"]);
  }, 30_000);

  it("once the stale node learns the ring, it hands its actors off and refuses with NOT_OWNER and the version", async () => {
    expect(ownershipA.status().activeActors).toBeGreaterThan(0);
    const chatId = fixture.ids.chat();
    // Node A learns version 2 (as its next refresh would).
    staleStore.target = trueStore;
    await staleView.refresh();
    await waitFor(() => ownershipA.status().handoffsPending === 0 && ownershipA.status().activeActors === 0, {
      what: "node A to passivate its actors",
    });
    expect(ownershipA.status().ringVersion).toBe(2);
    const refusal = await nodeA
      .sync({ chatId, userId: fixture.ids.user(), afterSequence: 0 })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ code: "NOT_OWNER", details: { ring_version: 2, owner: "node-b" } });
  }, 60_000);

  it("a router that meets NOT_OWNER refreshes its ring and retries on the owner", async () => {
    const sender = fixture.ids.user();
    const chatId = await fixture.chatWith([sender]);
    // The router's ring starts stale (version 1: node A), so its first call meets A's NOT_OWNER.
    const { routerStore, routerView } = await routerOnVersion1();
    routerStore.target = trueStore;
    const router = new RoutedIngestClient({
      view: routerView,
      clock: fixture.clock,
      logger,
      connect: (address) => Object.assign(address === "node-a" ? nodeA : nodeB, { close: () => {} }),
    });
    const result = await router.persist({
      chatId,
      senderId: sender,
      clientMessageId: randomUUID(),
      content: "rerouted",
      contentType: "text/plain",
    });
    expect(result.sequence).toBe(1);
    expect(router.stats).toMatchObject({ notOwner: 1, rerouted: 1 });
  }, 30_000);
});
