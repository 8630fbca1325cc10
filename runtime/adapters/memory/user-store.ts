import type { Clock } from "../../clock.js";
import type { UserId } from "../../ids.js";
import type { UserRecord, UserStore } from "../../ports/user-store.js";

/** The user store in memory, for unit tests; same semantics as the DynamoDB adapter (one contract suite). */
export class MemoryUserStore implements UserStore {
  private readonly users = new Map<UserId, UserRecord>();
  private readonly phones = new Map<string, UserId>();

  constructor(private readonly options: { readonly clock: Pick<Clock, "now"> }) {}

  async createUser(user: UserRecord): Promise<boolean> {
    if (this.users.has(user.userId)) return false;
    this.users.set(user.userId, Object.freeze({ ...user }));
    return true;
  }

  async claimPhone(phoneNumber: string, userId: UserId): Promise<{ userId: UserId; claimed: boolean }> {
    const holder = this.phones.get(phoneNumber);
    if (holder !== undefined) return { userId: holder, claimed: false };
    this.phones.set(phoneNumber, userId);
    return { userId, claimed: true };
  }

  async getUserIdByPhone(phoneNumber: string): Promise<UserId | undefined> {
    return this.phones.get(phoneNumber);
  }

  async getUserIdsByPhones(phoneNumbers: readonly string[]): Promise<Map<string, UserId>> {
    const found = new Map<string, UserId>();
    for (const phone of phoneNumbers) {
      const holder = this.phones.get(phone);
      if (holder !== undefined) found.set(phone, holder);
    }
    return found;
  }

  async getUser(userId: UserId): Promise<UserRecord | undefined> {
    return this.users.get(userId);
  }

  async getUsers(userIds: readonly UserId[]): Promise<UserRecord[]> {
    return [...new Set(userIds)].flatMap((userId) => this.users.get(userId) ?? []);
  }

  async setDisplayName(userId: UserId, displayName: string): Promise<UserRecord | undefined> {
    const user = this.users.get(userId);
    if (user === undefined) return undefined;
    const updated = Object.freeze({ ...user, displayName, updatedAt: this.options.clock.now() });
    this.users.set(userId, updated);
    return updated;
  }
}
