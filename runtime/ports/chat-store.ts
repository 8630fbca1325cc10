import type { ChatId, UserId } from "../ids.js";

/**
 * Chats and their members (tables `chats`, `chat_memberships`, `direct_chat_index`). Multi-item changes are
 * sequences of single-item conditional writes (D15): a chat is written `creating` first and becomes visible
 * when its record says `active`; a direct chat is unique per pair through the sentinel of `claimDirectChat`.
 * Membership reads used for authorization are strongly consistent.
 */
export const CHAT_TYPES = ["direct", "group"] as const;
export type ChatType = (typeof CHAT_TYPES)[number];
export const CHAT_STATUSES = ["creating", "active"] as const;
export type ChatStatus = (typeof CHAT_STATUSES)[number];
export const MEMBER_ROLES = ["owner", "admin", "member"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export interface ChatRecord {
  readonly chatId: ChatId;
  readonly chatType: ChatType;
  /** Null for direct chats. */
  readonly name: string | null;
  readonly createdBy: UserId;
  readonly status: ChatStatus;
  /** Intended member count: for display and the size cap, never for authorization. */
  readonly memberCount: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface MembershipRecord {
  readonly chatId: ChatId;
  readonly userId: UserId;
  readonly role: MemberRole;
  readonly joinedAt: number;
  readonly updatedAt: number;
  /** Epoch ms until which notifications are muted; absent when not muted. */
  readonly mutedUntil?: number;
}

export interface Page<T> {
  readonly items: T[];
  /** Opaque cursor of the next page; absent at the end. */
  readonly next?: string;
}

export interface UserChatCounts {
  /** Memberships of any type and role. */
  readonly chats: number;
  /** Memberships with the role `owner` (only a group's creator holds it). */
  readonly ownedGroups: number;
}

export interface ChatStore {
  /** Creates the chat only if its id is unused; false when it already existed. */
  createChat(chat: ChatRecord): Promise<boolean>;

  getChat(chatId: ChatId, options?: { readonly consistent?: boolean }): Promise<ChatRecord | undefined>;

  /** Moves a chat from one status to another; false when it was not in `from`. */
  setChatStatus(chatId: ChatId, from: ChatStatus, to: ChatStatus): Promise<boolean>;

  /** Renames a group chat; false when the chat does not exist or is direct. */
  renameChat(chatId: ChatId, name: string): Promise<boolean>;

  /**
   * Adds `delta` to `member_count` only if the result stays within [min, max]; returns the new count, or
   * undefined when the condition failed or the chat is missing.
   */
  adjustMemberCount(
    chatId: ChatId,
    delta: number,
    bounds: { readonly min: number; readonly max: number },
  ): Promise<number | undefined>;

  /** Adds a membership only if the user is not a member; false when they already were. */
  addMembership(membership: MembershipRecord): Promise<boolean>;

  /** Strongly consistent: a removal that has returned is seen by the next read. */
  getMembership(chatId: ChatId, userId: UserId): Promise<MembershipRecord | undefined>;

  /**
   * Many membership reads in one round trip (DynamoDB BatchGetItem), each strongly consistent: the members
   * among the given `(chat, user)` pairs, in no particular order. Lets a node check the senders of many
   * chats with one request instead of one each.
   */
  getMemberships(
    keys: ReadonlyArray<{ readonly chatId: ChatId; readonly userId: UserId }>,
  ): Promise<MembershipRecord[]>;

  /** Removes a membership unless it is missing or its role is `owner`; false otherwise. */
  removeMembership(chatId: ChatId, userId: UserId): Promise<boolean>;

  /** Changes the role of an existing non-owner member to a non-owner role; false otherwise. */
  setMemberRole(chatId: ChatId, userId: UserId, role: Exclude<MemberRole, "owner">): Promise<boolean>;

  /**
   * Mutes an existing membership until `mutedUntil` (epoch ms), or unmutes it (undefined). Returns the
   * membership afterwards, or undefined when the user is not a member.
   */
  setMutedUntil(
    chatId: ChatId,
    userId: UserId,
    mutedUntil: number | undefined,
  ): Promise<MembershipRecord | undefined>;

  /** Every member of a chat (groups are capped at 100), strongly consistent, ordered by user id. */
  listMembers(chatId: ChatId): Promise<MembershipRecord[]>;

  /** The memberships of one user, ordered by chat id, paged. */
  listChatsOfUser(
    userId: UserId,
    page: { readonly limit: number; readonly cursor?: string },
  ): Promise<Page<MembershipRecord>>;

  /**
   * How many chats `userId` belongs to, and how many of them are groups they own (created: ownership never
   * moves), for the per-user caps. Read from the `user_chats-index` GSI, so eventually consistent: racing
   * additions may overshoot a cap by the few that were in flight.
   */
  countChatsOfUser(userId: UserId): Promise<UserChatCounts>;

  /**
   * The direct-chat sentinel (pair key `min(a,b)#max(a,b)`): records `chatId` for the pair only if none is
   * recorded. Returns the chat id that holds the pair afterwards (the given one, or the winner of a race).
   */
  claimDirectChat(
    userA: UserId,
    userB: UserId,
    chatId: ChatId,
  ): Promise<{ chatId: ChatId; claimed: boolean }>;

  getDirectChat(userA: UserId, userB: UserId): Promise<ChatId | undefined>;
}

export const directPairKey = (a: UserId, b: UserId): string => (a < b ? `${a}#${b}` : `${b}#${a}`);
