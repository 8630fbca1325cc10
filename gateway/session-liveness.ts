import type { Clock } from "../runtime/clock.js";
import type { UserId } from "../runtime/ids.js";

/**
 * Whether a session still exists: chat management deletes a session on logout, on revocation (one or all),
 * on refresh-token reuse and when a newer login evicts it. The composition root answers from the session
 * store; the gateway only sees this port.
 */
export interface SessionCheck {
  isLive(sessionId: string, userId: UserId): Promise<boolean>;
}

export interface SessionLivenessOptions {
  readonly check: SessionCheck;
  readonly clock: Pick<Clock, "now">;
  /**
   * How long "live" is trusted. Revocation reaches every gateway at once (GatewayApi.closeConnections with
   * `session_revoked`), so this only bounds a gateway that missed that call.
   */
  readonly liveTtlMs: number;
  /** A revoked session is remembered this long: its access tokens expire within it (D11: at most 60 min). */
  readonly revokedTtlMs: number;
  /** Most sessions remembered; the oldest are dropped beyond it (a dropped one is simply checked again). */
  readonly maxEntries: number;
}

interface Entry {
  readonly live: boolean;
  readonly at: number;
}

/**
 * The handshake's revocation check (protocol §3 `token_revoked`), cached per session: a valid signature is
 * not enough once chat management has deleted the token's session.
 */
export class SessionLiveness {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: SessionLivenessOptions) {}

  /** Rejects when the check cannot answer (the caller refuses with 503). */
  async isLive(sessionId: string, userId: UserId): Promise<boolean> {
    const now = this.options.clock.now();
    const entry = this.entries.get(sessionId);
    if (entry !== undefined) {
      const ttl = entry.live ? this.options.liveTtlMs : this.options.revokedTtlMs;
      if (now - entry.at < ttl) return entry.live;
      this.entries.delete(sessionId);
    }
    const live = await this.options.check.isLive(sessionId, userId);
    // A revocation that arrived while reading wins: never overwrite it with the older answer.
    if (this.entries.get(sessionId)?.live !== false) this.remember(sessionId, { live, at: now });
    return live;
  }

  /** The session was revoked: refuse its tokens from now on. */
  revoked(sessionId: string): void {
    this.entries.delete(sessionId);
    this.remember(sessionId, { live: false, at: this.options.clock.now() });
  }

  private remember(sessionId: string, entry: Entry): void {
    this.entries.set(sessionId, entry);
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}
