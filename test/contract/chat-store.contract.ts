import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManualClock } from "../../runtime/clock.js";
import { type ChatId, IdFactory, type UserId } from "../../runtime/ids.js";
import type {
  ChatRecord,
  ChatStore,
  MemberRole,
  MembershipRecord,
  Page,
} from "../../runtime/ports/chat-store.js";

export interface ChatStoreFixture {
  readonly store: ChatStore;
  /** The clock the store stamps `updatedAt` with. */
  readonly clock: ManualClock;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every ChatStore adapter must have: each change is one conditional step (D15), so racing
 * callers get exactly one winner. One fixture per suite; every test works on fresh ids.
 */
export function describeChatStoreContract(name: string, make: () => Promise<ChatStoreFixture>): void {
  describe(`ChatStore contract: ${name}`, () => {
    let fixture: ChatStoreFixture;
    let store: ChatStore;
    const ids = new IdFactory({ now: () => Date.now() });

    const chat = (overrides: Partial<ChatRecord> = {}): ChatRecord => ({
      chatId: ids.chat(),
      chatType: "group",
      name: "Team",
      createdBy: ids.user(),
      status: "active",
      memberCount: 1,
      createdAt: fixture.clock.now(),
      updatedAt: fixture.clock.now(),
      ...overrides,
    });
    const membership = (chatId: ChatId, userId: UserId, role: MemberRole = "member"): MembershipRecord => ({
      chatId,
      userId,
      role,
      joinedAt: fixture.clock.now(),
      updatedAt: fixture.clock.now(),
    });
    /** A group with an owner, an admin and a member. */
    const groupWithMembers = async () => {
      const [owner, admin, member] = [ids.user(), ids.user(), ids.user()];
      const group = chat({ createdBy: owner, memberCount: 3 });
      await store.createChat(group);
      await store.addMembership(membership(group.chatId, owner, "owner"));
      await store.addMembership(membership(group.chatId, admin, "admin"));
      await store.addMembership(membership(group.chatId, member, "member"));
      return { chatId: group.chatId, owner, admin, member };
    };

    beforeAll(async () => {
      fixture = await make();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    describe("chats", () => {
      it("a created chat reads back; a second create of the same id returns false and keeps the first", async () => {
        const first = chat();
        expect(await store.createChat(first)).toBe(true);
        expect(await store.createChat({ ...first, name: "Impostor", memberCount: 50 })).toBe(false);
        expect(await store.getChat(first.chatId)).toEqual(first);
        expect(await store.getChat(first.chatId, { consistent: true })).toEqual(first);
        expect(await store.getChat(ids.chat(), { consistent: true })).toBeUndefined();
      });

      it("a direct chat keeps its null name", async () => {
        const direct = chat({ chatType: "direct", name: null, memberCount: 2 });
        await store.createChat(direct);
        expect(await store.getChat(direct.chatId)).toEqual(direct);
      });

      it("setChatStatus moves a chat only from the expected status (D15: creating, then active)", async () => {
        const pending = chat({ status: "creating" });
        await store.createChat(pending);
        expect(await store.setChatStatus(pending.chatId, "active", "creating")).toBe(false);
        fixture.clock.advance(10);
        expect(await store.setChatStatus(pending.chatId, "creating", "active")).toBe(true);
        expect(await store.getChat(pending.chatId, { consistent: true })).toMatchObject({
          status: "active",
          updatedAt: fixture.clock.now(),
        });
        expect(await store.setChatStatus(pending.chatId, "creating", "active")).toBe(false);
        expect(await store.setChatStatus(ids.chat(), "creating", "active")).toBe(false);
      });

      it("renameChat renames groups only; direct and missing chats are refused", async () => {
        const group = chat();
        const direct = chat({ chatType: "direct", name: null });
        await store.createChat(group);
        await store.createChat(direct);
        expect(await store.renameChat(group.chatId, "Renamed")).toBe(true);
        expect((await store.getChat(group.chatId, { consistent: true }))?.name).toBe("Renamed");
        expect(await store.renameChat(direct.chatId, "Nope")).toBe(false);
        expect((await store.getChat(direct.chatId, { consistent: true }))?.name).toBeNull();
        expect(await store.renameChat(ids.chat(), "Ghost")).toBe(false);
        expect(await store.getChat(ids.chat(), { consistent: true })).toBeUndefined();
      });

      it("adjustMemberCount applies a delta within bounds and refuses one outside them", async () => {
        const group = chat({ memberCount: 2 });
        await store.createChat(group);
        const bounds = { min: 1, max: 3 };
        expect(await store.adjustMemberCount(group.chatId, 1, bounds)).toBe(3);
        expect(await store.adjustMemberCount(group.chatId, 1, bounds)).toBeUndefined();
        expect(await store.adjustMemberCount(group.chatId, -2, bounds)).toBe(1);
        expect(await store.adjustMemberCount(group.chatId, -1, bounds)).toBeUndefined();
        expect((await store.getChat(group.chatId, { consistent: true }))?.memberCount).toBe(1);
        expect(await store.adjustMemberCount(ids.chat(), 1, { min: 0, max: 100 })).toBeUndefined();
      });

      it("concurrent joins never push member_count past the maximum", async () => {
        const group = chat({ memberCount: 97 });
        await store.createChat(group);
        const results = await Promise.all(
          Array.from({ length: 6 }, () => store.adjustMemberCount(group.chatId, 1, { min: 1, max: 100 })),
        );
        expect(results.filter((count) => count !== undefined).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([
          98, 99, 100,
        ]);
        expect((await store.getChat(group.chatId, { consistent: true }))?.memberCount).toBe(100);
      });
    });

    describe("memberships", () => {
      it("adding a member twice returns false and keeps the first membership", async () => {
        const [chatId, userId] = [ids.chat(), ids.user()];
        const first = { ...membership(chatId, userId, "admin"), mutedUntil: fixture.clock.now() + 60_000 };
        expect(await store.addMembership(first)).toBe(true);
        expect(await store.addMembership(membership(chatId, userId, "member"))).toBe(false);
        expect(await store.getMembership(chatId, userId)).toEqual(first);
        expect(await store.getMembership(chatId, ids.user())).toBeUndefined();
      });

      it("a membership without mutedUntil reads back without it", async () => {
        const added = membership(ids.chat(), ids.user());
        await store.addMembership(added);
        const read = await store.getMembership(added.chatId, added.userId);
        expect(read).toEqual(added);
        expect(read && "mutedUntil" in read).toBe(false);
      });

      it("reads many memberships of many chats at once, strongly consistent, members only", async () => {
        const first = await groupWithMembers();
        const second = await groupWithMembers();
        const stranger = ids.user();
        const keys = [
          { chatId: first.chatId, userId: first.member },
          { chatId: first.chatId, userId: stranger },
          { chatId: second.chatId, userId: second.owner },
          { chatId: second.chatId, userId: second.owner },
          { chatId: second.chatId, userId: first.member },
        ];
        const found = await store.getMemberships(keys);
        const pairs = found.map((m) => `${m.chatId}/${m.userId}/${m.role}`).sort();
        expect(pairs).toEqual(
          [`${first.chatId}/${first.member}/member`, `${second.chatId}/${second.owner}/owner`].sort(),
        );
        await store.removeMembership(first.chatId, first.member);
        expect(await store.getMemberships(keys.slice(0, 1))).toEqual([]);
        // More keys than one request carries (DynamoDB: 100) still come back whole.
        const many = Array.from({ length: 150 }, () => ({ chatId: second.chatId, userId: ids.user() }));
        expect(
          await store.getMemberships([...many, { chatId: second.chatId, userId: second.member }]),
        ).toHaveLength(1);
      });

      it("a removal that returned is seen by the next read; the owner and non-members cannot be removed", async () => {
        const { chatId, owner, member } = await groupWithMembers();
        expect(await store.removeMembership(chatId, owner)).toBe(false);
        expect(await store.getMembership(chatId, owner)).toMatchObject({ role: "owner" });
        expect(await store.removeMembership(chatId, member)).toBe(true);
        expect(await store.getMembership(chatId, member)).toBeUndefined();
        expect(await store.removeMembership(chatId, member)).toBe(false);
        expect(await store.removeMembership(chatId, ids.user())).toBe(false);
      });

      it("racing removals of one member: exactly one succeeds", async () => {
        const { chatId, member } = await groupWithMembers();
        const results = await Promise.all(
          Array.from({ length: 5 }, () => store.removeMembership(chatId, member)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it("roles change between admin and member only; the owner's role and missing members never change", async () => {
        const { chatId, owner, admin, member } = await groupWithMembers();
        fixture.clock.advance(10);
        expect(await store.setMemberRole(chatId, member, "admin")).toBe(true);
        expect(await store.getMembership(chatId, member)).toMatchObject({
          role: "admin",
          updatedAt: fixture.clock.now(),
        });
        expect(await store.setMemberRole(chatId, admin, "member")).toBe(true);
        expect((await store.getMembership(chatId, admin))?.role).toBe("member");
        expect(await store.setMemberRole(chatId, owner, "member")).toBe(false);
        expect((await store.getMembership(chatId, owner))?.role).toBe("owner");
        const ownerRole = "owner" as Exclude<MemberRole, "owner">;
        expect(await store.setMemberRole(chatId, member, ownerRole)).toBe(false);
        expect((await store.getMembership(chatId, member))?.role).toBe("admin");
        const stranger = ids.user();
        expect(await store.setMemberRole(chatId, stranger, "admin")).toBe(false);
        expect(await store.getMembership(chatId, stranger)).toBeUndefined();
      });

      it("mutes and unmutes an existing membership; strangers stay absent", async () => {
        const { chatId, member } = await groupWithMembers();
        fixture.clock.advance(10);
        const until = fixture.clock.now() + 3_600_000;
        expect(await store.setMutedUntil(chatId, member, until)).toMatchObject({
          mutedUntil: until,
          updatedAt: fixture.clock.now(),
        });
        expect((await store.getMembership(chatId, member))?.mutedUntil).toBe(until);
        const unmuted = await store.setMutedUntil(chatId, member, undefined);
        expect(unmuted?.mutedUntil).toBeUndefined();
        expect(unmuted?.role).toBe("member");
        expect((await store.getMembership(chatId, member))?.mutedUntil).toBeUndefined();
        const stranger = ids.user();
        expect(await store.setMutedUntil(chatId, stranger, until)).toBeUndefined();
        expect(await store.getMembership(chatId, stranger)).toBeUndefined();
      });

      it("listMembers returns every member of the chat, ordered by user id", async () => {
        const chatId = ids.chat();
        const users = Array.from({ length: 5 }, () => ids.user());
        for (const userId of [...users].reverse()) await store.addMembership(membership(chatId, userId));
        await store.addMembership(membership(ids.chat(), users[0] ?? ids.user()));
        const listed = await store.listMembers(chatId);
        expect(listed.map((m) => m.userId)).toEqual(users);
        expect(listed.every((m) => m.chatId === chatId)).toBe(true);
        expect(await store.listMembers(ids.chat())).toEqual([]);
      });
    });

    describe("chats of a user", () => {
      const pageThrough = async (userId: UserId, limit: number) => {
        const pages: Page<MembershipRecord>[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listChatsOfUser(userId, { limit, ...(cursor ? { cursor } : {}) });
          pages.push(page);
          cursor = page.next;
        } while (cursor !== undefined && pages.length < 20);
        return pages;
      };

      it("paging with the cursor covers every chat exactly once, in chat id order", async () => {
        const userId = ids.user();
        const chats = Array.from({ length: 7 }, () => ids.chat());
        for (const chatId of [...chats].reverse()) await store.addMembership(membership(chatId, userId));
        await store.addMembership(membership(chats[0] ?? ids.chat(), ids.user()));
        const pages = await pageThrough(userId, 3);
        expect(pages.map((page) => page.items.length)).toEqual([3, 3, 1]);
        expect(pages.at(-1)?.next).toBeUndefined();
        const listed = pages.flatMap((page) => page.items);
        expect(listed.map((m) => m.chatId)).toEqual(chats);
        expect(listed.every((m) => m.userId === userId)).toBe(true);
      });

      it("a page that ends exactly at the last chat has no next cursor", async () => {
        const userId = ids.user();
        for (let i = 0; i < 4; i++) await store.addMembership(membership(ids.chat(), userId));
        const pages = await pageThrough(userId, 2);
        expect(pages.map((page) => page.items.length)).toEqual([2, 2]);
        expect(await store.listChatsOfUser(ids.user(), { limit: 5 })).toEqual({ items: [] });
      });

      it("a removed membership leaves the user's list", async () => {
        const { chatId, member } = await groupWithMembers();
        expect((await store.listChatsOfUser(member, { limit: 10 })).items.map((m) => m.chatId)).toEqual([
          chatId,
        ]);
        await store.removeMembership(chatId, member);
        expect((await store.listChatsOfUser(member, { limit: 10 })).items).toEqual([]);
      });

      it("counts a user's chats and the groups they own; removals leave the count", async () => {
        const userId = ids.user();
        expect(await store.countChatsOfUser(userId)).toEqual({ chats: 0, ownedGroups: 0 });
        for (let i = 0; i < 3; i++) await store.addMembership(membership(ids.chat(), userId, "owner"));
        await store.addMembership(membership(ids.chat(), userId, "admin"));
        await store.addMembership(membership(ids.chat(), userId, "member"));
        const { chatId, member } = await groupWithMembers();
        await store.addMembership(membership(chatId, userId, "member"));
        expect(await store.countChatsOfUser(userId)).toEqual({ chats: 6, ownedGroups: 3 });
        await store.removeMembership(chatId, userId);
        expect(await store.countChatsOfUser(userId)).toEqual({ chats: 5, ownedGroups: 3 });
        expect(await store.countChatsOfUser(member)).toEqual({ chats: 1, ownedGroups: 0 });
      });

      it("a cursor that is garbage or belongs to another user is refused with INVALID_MESSAGE", async () => {
        const [userId, other] = [ids.user(), ids.user()];
        for (let i = 0; i < 2; i++) await store.addMembership(membership(ids.chat(), other));
        const next = (await store.listChatsOfUser(other, { limit: 1 })).next;
        expect(next).toBeDefined();
        for (const cursor of ["not-a-cursor", "e30", next ?? ""]) {
          await expect(store.listChatsOfUser(userId, { limit: 1, cursor })).rejects.toMatchObject({
            code: "INVALID_MESSAGE",
          });
        }
      });
    });

    describe("direct chat sentinel (D15)", () => {
      it("the first claim wins and a later claim, in either argument order, learns the holder", async () => {
        const [alice, bob] = [ids.user(), ids.user()];
        const [first, second] = [ids.chat(), ids.chat()];
        expect(await store.getDirectChat(alice, bob)).toBeUndefined();
        expect(await store.claimDirectChat(alice, bob, first)).toEqual({ chatId: first, claimed: true });
        expect(await store.claimDirectChat(bob, alice, second)).toEqual({ chatId: first, claimed: false });
        expect(await store.getDirectChat(bob, alice)).toBe(first);
        expect(await store.getDirectChat(alice, bob)).toBe(first);
        expect(await store.getDirectChat(alice, ids.user())).toBeUndefined();
      });

      it("concurrent claims of one pair: exactly one is claimed and all see the same chat", async () => {
        const [alice, bob] = [ids.user(), ids.user()];
        const candidates = Array.from({ length: 6 }, () => ids.chat());
        const results = await Promise.all(
          candidates.map((chatId, index) =>
            index % 2 === 0
              ? store.claimDirectChat(alice, bob, chatId)
              : store.claimDirectChat(bob, alice, chatId),
          ),
        );
        const winners = results.filter((result) => result.claimed);
        expect(winners).toHaveLength(1);
        const winner = winners[0]?.chatId;
        expect(candidates).toContain(winner);
        expect(new Set(results.map((result) => result.chatId))).toEqual(new Set([winner]));
        expect(await store.getDirectChat(bob, alice)).toBe(winner);
      });
    });
  });
}
