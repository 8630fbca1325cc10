import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoChatStore } from "../../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { deleteTables, ensureTables } from "../../runtime/adapters/dynamodb/tables.js";
import { ManualClock } from "../../runtime/clock.js";
import { IdFactory, type UserId } from "../../runtime/ids.js";
import { createActiveChat } from "../../test/support/chats.js";
import { engineEndpoint, uniqueName } from "../../test/support/engines.js";
import { MembershipCache } from "./membership-cache.js";

const dynamodb = engineEndpoint("dynamodb");

describe.skipIf(!dynamodb)("the fanout member cache (read-through to the chat store on dynalite)", () => {
  const clock = new ManualClock(Date.now());
  const ids = new IdFactory(clock);
  const client = createDynamoClient({ endpoint: dynamodb ?? "", region: "us-east-1" });
  const tablePrefix = uniqueName("fanoutcache");
  const chatStore = new DynamoChatStore({ client, tablePrefix, clock });
  const cacheOf = (options: { ttlMs?: number; maxChats?: number } = {}) =>
    new MembershipCache({
      chatStore,
      clock,
      ttlMs: options.ttlMs ?? 300_000,
      maxChats: options.maxChats ?? 100,
    });
  const users = (count: number): UserId[] => Array.from({ length: count }, () => ids.user());

  beforeAll(async () => {
    await ensureTables(client, tablePrefix);
  });

  afterAll(async () => {
    await deleteTables(client, tablePrefix).catch(() => {});
    client.destroy();
  });

  it("reads a chat's members from the store once, then serves them from memory", async () => {
    const members = users(3);
    const chatId = await createActiveChat(chatStore, { ids, clock }, members);
    const cache = cacheOf();
    expect([...(await cache.membersOf(chatId))].sort()).toEqual([...members].sort());
    // The store changes behind the cache's back: without an event the cached list stands.
    const [, second] = members;
    await chatStore.removeMembership(chatId, second as UserId);
    expect(await cache.membersOf(chatId)).toHaveLength(3);
    expect(cache.stats()).toMatchObject({ misses: 1, hits: 1, size: 1 });
  });

  it("reads the committed membership again after the chat is invalidated by a membership event", async () => {
    const [owner, leaver, joiner] = users(3) as [UserId, UserId, UserId];
    const chatId = await createActiveChat(chatStore, { ids, clock }, [owner, leaver]);
    const cache = cacheOf();
    await cache.membersOf(chatId);
    await chatStore.removeMembership(chatId, leaver);
    const now = clock.now();
    await chatStore.addMembership({ chatId, userId: joiner, role: "member", joinedAt: now, updatedAt: now });
    cache.invalidate(chatId);
    expect([...(await cache.membersOf(chatId))].sort()).toEqual([owner, joiner].sort());
    expect(cache.stats()).toMatchObject({ misses: 2, invalidations: 1 });
  });

  it("does not keep a read that was running when the chat was invalidated", async () => {
    const [owner, leaver] = users(2) as [UserId, UserId];
    const chatId = await createActiveChat(chatStore, { ids, clock }, [owner, leaver]);
    const cache = cacheOf();
    const running = cache.membersOf(chatId);
    await chatStore.removeMembership(chatId, leaver);
    cache.invalidate(chatId);
    await running;
    expect(await cache.membersOf(chatId)).toEqual([owner]);
  });

  it("trusts an entry only for its TTL on the injected clock", async () => {
    const [owner, leaver] = users(2) as [UserId, UserId];
    const chatId = await createActiveChat(chatStore, { ids, clock }, [owner, leaver]);
    const cache = cacheOf({ ttlMs: 1_000 });
    await cache.membersOf(chatId);
    await chatStore.removeMembership(chatId, leaver);
    clock.advance(999);
    expect(await cache.membersOf(chatId)).toHaveLength(2);
    clock.advance(1);
    expect(await cache.membersOf(chatId)).toEqual([owner]);
  });

  it("keeps at most maxChats chats, dropping the least recently used", async () => {
    const cache = cacheOf({ maxChats: 2 });
    const [a, b, c] = await Promise.all(
      [0, 1, 2].map(() => createActiveChat(chatStore, { ids, clock }, users(1))),
    );
    for (const chatId of [a, b, a, c]) await cache.membersOf(chatId as typeof a & string);
    expect(cache.stats()).toMatchObject({ size: 2, evictions: 1 });
    const before = cache.stats().misses;
    await cache.membersOf(a as typeof a & string);
    expect(cache.stats().misses).toBe(before);
    await cache.membersOf(b as typeof b & string);
    expect(cache.stats().misses).toBe(before + 1);
  });

  it("rejects when the store cannot answer, caching nothing", async () => {
    const missingTables = new DynamoChatStore({ client, tablePrefix: uniqueName("absent"), clock });
    const cache = new MembershipCache({ chatStore: missingTables, clock, ttlMs: 1_000, maxChats: 10 });
    const chatId = ids.chat();
    await expect(cache.membersOf(chatId)).rejects.toThrow();
    await expect(cache.membersOf(chatId)).rejects.toThrow();
    expect(cache.stats()).toMatchObject({ misses: 2, size: 0 });
  });
});
