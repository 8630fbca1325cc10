import type { Clock } from "../../clock.js";
import type { SessionId, UserId } from "../../ids.js";
import {
  MAX_PREVIOUS_TOKEN_HASHES,
  type SessionRecord,
  type SessionStore,
} from "../../ports/session-store.js";
import { isInForce } from "../store-arguments.js";

/** The session store in memory, for unit tests; same semantics as the DynamoDB adapter. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<SessionId, SessionRecord>();

  constructor(private readonly options: { readonly clock: Pick<Clock, "now"> }) {}

  async createSession(session: SessionRecord): Promise<boolean> {
    if (this.sessions.has(session.sessionId)) return false;
    this.sessions.set(session.sessionId, Object.freeze({ ...session }));
    return true;
  }

  async getSession(sessionId: SessionId): Promise<SessionRecord | undefined> {
    const session = this.sessions.get(sessionId);
    return session !== undefined && isInForce(session, this.options.clock.now()) ? session : undefined;
  }

  async listSessionsOfUser(userId: UserId): Promise<SessionRecord[]> {
    const now = this.options.clock.now();
    return [...this.sessions.values()]
      .filter((session) => session.userId === userId && isInForce(session, now))
      .sort((a, b) => a.createdAt - b.createdAt || (a.sessionId < b.sessionId ? -1 : 1));
  }

  async rotateRefreshToken(current: SessionRecord, newHash: string): Promise<SessionRecord | undefined> {
    // Check and set before any await: atomic like the conditional write.
    const stored = this.sessions.get(current.sessionId);
    const now = this.options.clock.now();
    if (
      stored === undefined ||
      !isInForce(stored, now) ||
      stored.refreshTokenHash !== current.refreshTokenHash
    ) {
      return undefined;
    }
    const rotated: SessionRecord = Object.freeze({
      ...stored,
      refreshTokenHash: newHash,
      previousTokenHashes: [stored.refreshTokenHash, ...stored.previousTokenHashes].slice(
        0,
        MAX_PREVIOUS_TOKEN_HASHES,
      ),
      tokenGeneration: stored.tokenGeneration + 1,
      lastActiveAt: now,
    });
    this.sessions.set(current.sessionId, rotated);
    return rotated;
  }

  async touchSession(sessionId: SessionId, at: number): Promise<void> {
    const stored = this.sessions.get(sessionId);
    if (stored !== undefined) this.sessions.set(sessionId, Object.freeze({ ...stored, lastActiveAt: at }));
  }

  async deleteSession(sessionId: SessionId): Promise<SessionRecord | undefined> {
    const stored = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    return stored;
  }
}
