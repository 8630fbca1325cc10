import type { Clock } from "../../clock.js";
import type { ChatId, UserId } from "../../ids.js";
import {
  type ChatRecord,
  type ChatStatus,
  type ChatStore,
  directPairKey,
  type MemberRole,
  type MembershipRecord,
  type Page,
  type UserChatCounts,
} from "../../ports/chat-store.js";
import { decodePageCursor, encodePageCursor } from "../page-cursor.js";
import { checkPageLimit } from "../store-arguments.js";

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The chat store in memory, for unit tests. Same semantics as the DynamoDB adapter (one contract suite):
 * every change is a check-and-set completed before the first await, i.e. atomic like a conditional write.
 * Records are stored frozen, so a caller cannot change the store through a returned object.
 */
export class MemoryChatStore implements ChatStore {
  private readonly clock: Pick<Clock, "now">;
  private readonly chats = new Map<ChatId, ChatRecord>();
  /** Per chat, per user: the table. */
  private readonly members = new Map<ChatId, Map<UserId, MembershipRecord>>();
  /** Per user, the chats they belong to: the `user_chats-index` GSI. */
  private readonly chatsOfUser = new Map<UserId, Set<ChatId>>();
  private readonly directChats = new Map<string, ChatId>();

  constructor(options: { readonly clock: Pick<Clock, "now"> }) {
    this.clock = options.clock;
  }

  async createChat(chat: ChatRecord): Promise<boolean> {
    if (this.chats.has(chat.chatId)) return false;
    this.chats.set(chat.chatId, Object.freeze({ ...chat }));
    return true;
  }

  async getChat(chatId: ChatId): Promise<ChatRecord | undefined> {
    return this.chats.get(chatId);
  }

  async setChatStatus(chatId: ChatId, from: ChatStatus, to: ChatStatus): Promise<boolean> {
    const chat = this.chats.get(chatId);
    if (chat?.status !== from) return false;
    this.updateChat(chat, { status: to });
    return true;
  }

  async renameChat(chatId: ChatId, name: string): Promise<boolean> {
    const chat = this.chats.get(chatId);
    if (chat?.chatType !== "group") return false;
    this.updateChat(chat, { name });
    return true;
  }

  async adjustMemberCount(
    chatId: ChatId,
    delta: number,
    bounds: { readonly min: number; readonly max: number },
  ): Promise<number | undefined> {
    const chat = this.chats.get(chatId);
    if (chat === undefined) return undefined;
    const memberCount = chat.memberCount + delta;
    if (memberCount < bounds.min || memberCount > bounds.max) return undefined;
    this.updateChat(chat, { memberCount });
    return memberCount;
  }

  async addMembership(membership: MembershipRecord): Promise<boolean> {
    let chat = this.members.get(membership.chatId);
    if (chat === undefined) {
      chat = new Map();
      this.members.set(membership.chatId, chat);
    }
    if (chat.has(membership.userId)) return false;
    chat.set(membership.userId, Object.freeze({ ...membership }));
    let chats = this.chatsOfUser.get(membership.userId);
    if (chats === undefined) {
      chats = new Set();
      this.chatsOfUser.set(membership.userId, chats);
    }
    chats.add(membership.chatId);
    return true;
  }

  async getMembership(chatId: ChatId, userId: UserId): Promise<MembershipRecord | undefined> {
    return this.members.get(chatId)?.get(userId);
  }

  async getMemberships(
    keys: ReadonlyArray<{ readonly chatId: ChatId; readonly userId: UserId }>,
  ): Promise<MembershipRecord[]> {
    const found = new Map<string, MembershipRecord>();
    for (const { chatId, userId } of keys) {
      const membership = this.members.get(chatId)?.get(userId);
      if (membership !== undefined) found.set(`${chatId}\u0000${userId}`, membership);
    }
    return [...found.values()];
  }

  async removeMembership(chatId: ChatId, userId: UserId): Promise<boolean> {
    const membership = this.members.get(chatId)?.get(userId);
    if (membership === undefined || membership.role === "owner") return false;
    this.members.get(chatId)?.delete(userId);
    this.chatsOfUser.get(userId)?.delete(chatId);
    return true;
  }

  async setMemberRole(chatId: ChatId, userId: UserId, role: Exclude<MemberRole, "owner">): Promise<boolean> {
    const chat = this.members.get(chatId);
    const membership = chat?.get(userId);
    if (chat === undefined || membership === undefined || membership.role === "owner") return false;
    if ((role as MemberRole) === "owner") return false;
    chat.set(userId, Object.freeze({ ...membership, role, updatedAt: this.clock.now() }));
    return true;
  }

  async setMutedUntil(
    chatId: ChatId,
    userId: UserId,
    mutedUntil: number | undefined,
  ): Promise<MembershipRecord | undefined> {
    const chat = this.members.get(chatId);
    const membership = chat?.get(userId);
    if (chat === undefined || membership === undefined) return undefined;
    const { mutedUntil: _previous, ...rest } = membership;
    const updated: MembershipRecord = Object.freeze({
      ...rest,
      updatedAt: this.clock.now(),
      ...(mutedUntil === undefined ? {} : { mutedUntil }),
    });
    chat.set(userId, updated);
    return updated;
  }

  async listMembers(chatId: ChatId): Promise<MembershipRecord[]> {
    return [...(this.members.get(chatId)?.values() ?? [])].sort((a, b) => compareIds(a.userId, b.userId));
  }

  async listChatsOfUser(
    userId: UserId,
    page: { readonly limit: number; readonly cursor?: string },
  ): Promise<Page<MembershipRecord>> {
    checkPageLimit(page.limit);
    const after = page.cursor === undefined ? undefined : decodePageCursor(page.cursor, userId);
    const chatIds = [...(this.chatsOfUser.get(userId) ?? [])]
      .filter((chatId) => after === undefined || chatId > after)
      .sort(compareIds);
    const items = chatIds
      .slice(0, page.limit)
      .flatMap((chatId) => this.members.get(chatId)?.get(userId) ?? []);
    const last = items.at(-1);
    return chatIds.length > page.limit && last !== undefined
      ? { items, next: encodePageCursor(userId, last.chatId) }
      : { items };
  }

  async countChatsOfUser(userId: UserId): Promise<UserChatCounts> {
    let chats = 0;
    let ownedGroups = 0;
    for (const chatId of this.chatsOfUser.get(userId) ?? []) {
      const membership = this.members.get(chatId)?.get(userId);
      if (membership === undefined) continue;
      chats++;
      if (membership.role === "owner") ownedGroups++;
    }
    return { chats, ownedGroups };
  }

  async claimDirectChat(
    userA: UserId,
    userB: UserId,
    chatId: ChatId,
  ): Promise<{ chatId: ChatId; claimed: boolean }> {
    const pairKey = directPairKey(userA, userB);
    const holder = this.directChats.get(pairKey);
    if (holder !== undefined) return { chatId: holder, claimed: false };
    this.directChats.set(pairKey, chatId);
    return { chatId, claimed: true };
  }

  async getDirectChat(userA: UserId, userB: UserId): Promise<ChatId | undefined> {
    return this.directChats.get(directPairKey(userA, userB));
  }

  private updateChat(chat: ChatRecord, change: Partial<ChatRecord>): void {
    this.chats.set(chat.chatId, Object.freeze({ ...chat, ...change, updatedAt: this.clock.now() }));
  }
}
