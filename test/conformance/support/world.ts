import { randomBytes } from "node:crypto";
import { type Platform, type StartOptions, startPlatform } from "./platform.js";
import { createChat, login, newDevice, type User } from "./rest.js";
import { TokenMint } from "./tokens.js";
import { WsClient } from "./ws-client.js";

/**
 * One started platform per test file and what its tests share: users logged in over REST, chats made over
 * REST, sockets opened with a user's token. The gateway limits new connections per user and minute
 * (protocol §3), so `connect` logs in a fresh session user when one has opened many.
 */
export class World {
  private readonly opened = new Map<string, number>();

  private constructor(
    readonly platform: Platform,
    readonly mint: TokenMint,
  ) {}

  static async start(options: StartOptions = {}): Promise<World> {
    const platform = await startPlatform(options);
    try {
      return new World(platform, await TokenMint.forPlatform(platform.baseUrl, platform.signingKeyPem));
    } catch (error) {
      await platform.stop();
      throw error;
    }
  }

  get baseUrl(): string {
    return this.platform.baseUrl;
  }

  user(): Promise<User> {
    return login(this.platform.baseUrl);
  }

  /** Logs in `count` users. */
  users(count: number): Promise<User[]> {
    return Promise.all(Array.from({ length: count }, () => this.user()));
  }

  /** A group chat owned by the first user with the others as members. */
  chat(owner: User, ...others: User[]): Promise<string> {
    return createChat(this.platform.baseUrl, owner, others);
  }

  /** A socket of `user` on a new device (or `deviceId`), with the access token of its REST login. */
  async connect(user: User, deviceId: string = newDevice()): Promise<WsClient> {
    const count = (this.opened.get(user.userId) ?? 0) + 1;
    this.opened.set(user.userId, count);
    if (count > 25) throw new Error("too many connections for one user in one file: use another user");
    return WsClient.connect(this.platform.wsUrl, { token: user.accessToken, deviceId });
  }

  stop(): Promise<void> {
    return this.platform.stop();
  }
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** A syntactically valid ULID (spec §2) that names nothing. */
export function randomUlid(): string {
  const bytes = randomBytes(26);
  let text = CROCKFORD[(bytes[0] ?? 0) % 8] ?? "0";
  for (let i = 1; i < 26; i++) text += CROCKFORD[(bytes[i] ?? 0) % 32];
  return text;
}
