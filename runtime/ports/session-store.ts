import type { SessionId, UserId } from "../ids.js";

/**
 * Login sessions (table `sessions`), one per (user, device). A session holds the SHA-256 of its current
 * opaque refresh token and of the last few rotated-out ones: presenting a rotated-out token is reuse, and
 * revokes the whole family (the session). Sessions expire (D12): reads ignore a session past `expiresAt`.
 */
export interface SessionRecord {
  readonly sessionId: SessionId;
  readonly userId: UserId;
  readonly deviceId: string;
  readonly refreshTokenHash: string;
  /** Newest first, at most MAX_PREVIOUS_TOKEN_HASHES. */
  readonly previousTokenHashes: readonly string[];
  /** A ULID naming the chain of refresh tokens issued to this session. */
  readonly tokenFamily: string;
  /** 1 for the first token; +1 on each rotation. */
  readonly tokenGeneration: number;
  readonly createdAt: number;
  readonly lastActiveAt: number;
  /** Creation + the refresh-token lifetime; rotation never extends it. */
  readonly expiresAt: number;
}

/** How many rotated-out refresh tokens of a session are still recognised as reuse. */
export const MAX_PREVIOUS_TOKEN_HASHES = 10;

export interface SessionStore {
  /** Creates the session only if its id is unused. */
  createSession(session: SessionRecord): Promise<boolean>;

  /** Strongly consistent; undefined when missing or expired. */
  getSession(sessionId: SessionId): Promise<SessionRecord | undefined>;

  /** The unexpired sessions of a user, oldest first (an index read: eventually consistent). */
  listSessionsOfUser(userId: UserId): Promise<SessionRecord[]>;

  /**
   * Compare-and-set rotation: replaces the refresh token hash only if it still is `current.refreshTokenHash`
   * and the session has not expired, pushing the old hash onto the previous ones. Returns the session
   * afterwards, or undefined when another rotation (or a revocation) came first.
   */
  rotateRefreshToken(current: SessionRecord, newHash: string): Promise<SessionRecord | undefined>;

  /** Bumps `lastActiveAt` of an existing session (never creates one). */
  touchSession(sessionId: SessionId, at: number): Promise<void>;

  /** Deletes a session; returns what was deleted, or undefined when it did not exist. */
  deleteSession(sessionId: SessionId): Promise<SessionRecord | undefined>;
}
