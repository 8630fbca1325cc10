import type { Clock, TimerHandle } from "../../runtime/clock.js";
import type { AccessToken, ClientLogger, TokenProvider } from "./client-options.js";

/**
 * The client's access token: cached while fresh, fetched from the provider when forced (401,
 * `token_expired`) or close to `exp`, and refreshed ahead of `exp` on a timer (CL-07). There is no in-session
 * refresh in the protocol (§3): the owner presents a refreshed token by reconnecting.
 */
export class TokenKeeper {
  private token: AccessToken | undefined;
  private generation = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly provider: TokenProvider,
    private readonly clock: Clock,
    private readonly leadMs: number,
    private readonly logger: ClientLogger,
    /** Told after the timer refreshed the token, so the session can reconnect with it. */
    private readonly onRefreshed: (token: AccessToken) => void,
  ) {}

  get current(): AccessToken | undefined {
    return this.token;
  }

  /** A usable token; undefined when a later call superseded this one. */
  async obtain(forceRefresh: boolean): Promise<AccessToken | undefined> {
    const generation = ++this.generation;
    const cached = this.token;
    const fresh =
      cached !== undefined &&
      (cached.expiresAtMs === undefined || cached.expiresAtMs - this.clock.now() > this.marginMs(cached));
    const token = !forceRefresh && fresh ? cached : await this.provider.getToken({ forceRefresh });
    if (generation !== this.generation) return undefined;
    this.adopt(token);
    return token;
  }

  cancel(): void {
    this.generation++;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Protocol §3: about 5 minutes before `exp`, or a fifth of the lifetime left for short-lived tokens. */
  private marginMs(token: AccessToken): number {
    if (token.expiresAtMs === undefined) return 0;
    return Math.min(this.leadMs, Math.max(0, (token.expiresAtMs - this.clock.now()) / 5));
  }

  private adopt(token: AccessToken): void {
    this.token = token;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (token.expiresAtMs === undefined) return;
    const dueInMs = Math.max(0, token.expiresAtMs - this.clock.now() - this.marginMs(token));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.provider.getToken({ forceRefresh: true }).then(
        (refreshed) => {
          this.adopt(refreshed);
          this.onRefreshed(refreshed);
        },
        (error: unknown) =>
          this.logger.warn({ err: error }, "token refresh failed; retrying at the next connect"),
      );
    }, dueInMs);
  }
}
