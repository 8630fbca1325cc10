import { createHash } from "node:crypto";
import type { UserId } from "../ids.js";

/**
 * Users (table `users`). A phone number belongs to one user through a sentinel item `PHONE#<sha256(phone)>`
 * in the same table (D15; the `phone_number-index` GSI is only eventually consistent): a user record is
 * written first and becomes reachable by phone only once its sentinel is claimed, so a crash in between
 * leaves an unreachable record and never two users for one number.
 */
export interface UserRecord {
  readonly userId: UserId;
  /** E.164. */
  readonly phoneNumber: string;
  /** Null until the user sets one. */
  readonly displayName: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface UserStore {
  /** Creates the user only if the id is unused; false when it already existed. */
  createUser(user: UserRecord): Promise<boolean>;

  /**
   * Records `userId` as the holder of `phoneNumber` only if none is recorded. Returns the holder afterwards
   * (the given user, or the winner of a race).
   */
  claimPhone(phoneNumber: string, userId: UserId): Promise<{ userId: UserId; claimed: boolean }>;

  /** The holder of a phone number (strongly consistent), or undefined. */
  getUserIdByPhone(phoneNumber: string): Promise<UserId | undefined>;

  /** The holders of many phone numbers (one round trip per 100); numbers without a holder are absent. */
  getUserIdsByPhones(phoneNumbers: readonly string[]): Promise<Map<string, UserId>>;

  getUser(userId: UserId): Promise<UserRecord | undefined>;

  /** Many users at once; missing ones are absent. */
  getUsers(userIds: readonly UserId[]): Promise<UserRecord[]>;

  /** Sets the display name of an existing user; returns the user afterwards, undefined when missing. */
  setDisplayName(userId: UserId, displayName: string): Promise<UserRecord | undefined>;
}

/** SHA-256 of the E.164 number, hex: the key of phone sentinels, OTP records and phone rate limits. */
export const phoneHash = (phoneNumber: string): string =>
  createHash("sha256").update(phoneNumber, "utf8").digest("hex");

/** The key of a phone sentinel in the `users` table; `#` never occurs in a user id. */
export const phoneSentinelKey = (phoneNumber: string): string => `PHONE#${phoneHash(phoneNumber)}`;
