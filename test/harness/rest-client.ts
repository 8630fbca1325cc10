import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { AccessToken, TokenProvider } from "./client.js";

/**
 * The reference client's REST side (spec/rest-data-auth-chats.md §1–§3): phone login with OTP, token refresh,
 * chats. Errors come back as `RestError` with the server's `{error: {code, message}}`.
 */
export class RestError extends Error {
  override readonly name = "RestError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Session {
  readonly base_url: string;
  readonly user_id: string;
  readonly device_id: string;
  readonly phone_number: string;
  readonly access_token: string;
  readonly refresh_token: string;
  /** Epoch ms when the access token expires (from `expires_in`). */
  readonly access_expires_at_ms: number;
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

export type Fetch = typeof fetch;

export class RestClient {
  constructor(
    readonly baseUrl: string,
    private readonly fetchImpl: Fetch = fetch,
    private readonly now: () => number = Date.now,
  ) {}

  async call<T>(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; data: T }> {
    const headers: Record<string, string> = { "x-request-id": randomUUID(), ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await this.fetchImpl(new URL(path, this.baseUrl), {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    const parsed =
      text === "" ? {} : (JSON.parse(text) as { data?: T; error?: { code?: string; message?: string } });
    if (!response.ok) {
      throw new RestError(
        response.status,
        parsed.error?.code ?? `HTTP_${response.status}`,
        parsed.error?.message ?? response.statusText,
      );
    }
    return { status: response.status, data: parsed.data as T };
  }

  requestOtp(phoneNumber: string): Promise<{ status: number; data: { expires_at: string } }> {
    return this.call("POST", "/api/v1/auth/request-otp", { body: { phone_number: phoneNumber } });
  }

  /** D11: the code the dev SMS sender logged; only served when the server runs in dev mode. */
  async devOtp(phoneNumber: string): Promise<string> {
    const { data } = await this.call<{ otp: string }>(
      "GET",
      `/api/v1/dev/otp?phone=${encodeURIComponent(phoneNumber)}`,
    );
    return data.otp;
  }

  async verifyOtp(phoneNumber: string, otp: string, deviceId: string): Promise<Session> {
    const { data } = await this.call<{ user: { user_id: string }; tokens: Tokens }>(
      "POST",
      "/api/v1/auth/verify-otp",
      {
        body: { phone_number: phoneNumber, otp, device_id: deviceId },
        headers: { "x-device-id": deviceId },
      },
    );
    return this.session(
      { base_url: this.baseUrl, user_id: data.user.user_id, device_id: deviceId, phone_number: phoneNumber },
      data.tokens,
    );
  }

  /** Spec §3.3: the refresh token rotates; the (maybe expired) access token and device id go along. */
  async refresh(session: Session): Promise<Session> {
    const { data } = await this.call<{ tokens: Tokens }>("POST", "/api/v1/auth/refresh", {
      body: { refresh_token: session.refresh_token },
      token: session.access_token,
      headers: { "x-device-id": session.device_id },
    });
    return this.session(session, data.tokens);
  }

  listChats(session: Session): Promise<{ status: number; data: Array<Record<string, unknown>> }> {
    return this.call("GET", "/api/v1/chats?limit=100", { token: session.access_token });
  }

  createChat(
    session: Session,
    type: "direct" | "group",
    memberIds: readonly string[],
    name?: string,
  ): Promise<{ status: number; data: Record<string, unknown> }> {
    return this.call("POST", "/api/v1/chats", {
      token: session.access_token,
      headers: { "idempotency-key": randomUUID() },
      body: { type, member_ids: memberIds, ...(name === undefined ? {} : { name }) },
    });
  }

  private session(
    base: Pick<Session, "base_url" | "user_id" | "device_id" | "phone_number">,
    tokens: Tokens,
  ): Session {
    return {
      ...base,
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      access_expires_at_ms: this.now() + tokens.expires_in * 1000,
    };
  }
}

/** The CLI's stored login, one file per state directory. */
export class SessionFile {
  constructor(readonly path: string) {}

  read(): Session | undefined {
    try {
      return JSON.parse(readFileSync(this.path, "utf8")) as Session;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  write(session: Session): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, JSON.stringify(session, null, 2), { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}

/**
 * CL-07 and the UNAUTHORIZED reaction for a logged-in CLI: the stored access token while it is fresh, else a
 * refresh through REST (stored at once: the refresh token rotates, and reusing an old one revokes the session).
 */
export function sessionTokens(
  rest: RestClient,
  file: SessionFile,
  now: () => number = Date.now,
): TokenProvider {
  return {
    async getToken({ forceRefresh }): Promise<AccessToken> {
      let session = file.read();
      if (session === undefined) throw new Error("not logged in: run `chat login <phone>` first");
      if (forceRefresh || session.access_expires_at_ms - now() < 60_000) {
        session = await rest.refresh(session);
        file.write(session);
      }
      return { accessToken: session.access_token, expiresAtMs: session.access_expires_at_ms };
    },
  };
}
