import { randomUUID } from "node:crypto";

/** A REST answer as the client sees it: status, headers and the parsed JSON body (undefined when empty). */
export interface RestResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** The REST error envelope of spec/rest-data-auth-chats.md §1. */
export interface ErrorEnvelope {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly request_id: string;
    readonly details?: Record<string, unknown>;
  };
}

export interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent as it is (not JSON-encoded). */
  readonly rawBody?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by each test's expectations
export type Json = any;

export async function call<T = Json>(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<RestResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined && headers["content-type"] === undefined)
    headers["content-type"] = "application/json";
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let parsed: unknown;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** A logged-in user (spec §3): the verify-otp answer's user, session and tokens, and the device used. */
export interface User {
  readonly userId: string;
  readonly phone: string;
  readonly deviceId: string;
  readonly sessionId: string;
  readonly accessToken: string;
  readonly refreshToken: string;
}

let phoneCounter = 0;
/** A fresh E.164 number per call, unlikely to collide with other suites on the same engines. */
export function newPhone(): string {
  phoneCounter++;
  const random = Math.floor(Math.random() * 1e5);
  return `+1555${String(random).padStart(5, "0")}${String(phoneCounter % 100).padStart(2, "0")}`;
}

export const newDevice = (): string => `dev-${randomUUID()}`;

/** Phone login in dev mode: request-otp, read the code at /api/v1/dev/otp, verify-otp. */
export async function login(
  baseUrl: string,
  phone: string = newPhone(),
  deviceId: string = newDevice(),
): Promise<User> {
  const requested = await call(baseUrl, "POST", "/api/v1/auth/request-otp", {
    body: { phone_number: phone },
  });
  if (requested.status !== 200)
    throw new Error(`request-otp: ${requested.status} ${JSON.stringify(requested.body)}`);
  const otp = await devOtp(baseUrl, phone);
  const verified = await call(baseUrl, "POST", "/api/v1/auth/verify-otp", {
    body: { phone_number: phone, otp, device_id: deviceId },
    headers: { "x-device-id": deviceId },
  });
  if (verified.status !== 200 && verified.status !== 201) {
    throw new Error(`verify-otp: ${verified.status} ${JSON.stringify(verified.body)}`);
  }
  const data = verified.body.data;
  return {
    userId: data.user.user_id,
    phone,
    deviceId,
    sessionId: data.session.session_id,
    accessToken: data.tokens.access_token,
    refreshToken: data.tokens.refresh_token,
  };
}

export async function devOtp(baseUrl: string, phone: string): Promise<string> {
  const answer = await call(baseUrl, "GET", `/api/v1/dev/otp?phone=${encodeURIComponent(phone)}`);
  if (answer.status !== 200) throw new Error(`dev otp: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.data.otp as string;
}

/** Creates a chat as `owner` with the others as members; resolves with its chat_id. */
export async function createChat(
  baseUrl: string,
  owner: User,
  others: readonly User[],
  type: "direct" | "group" = "group",
): Promise<string> {
  const answer = await call(baseUrl, "POST", "/api/v1/chats", {
    token: owner.accessToken,
    body: {
      type,
      member_ids: others.map((user) => user.userId),
      ...(type === "group" ? { name: `conformance ${randomUUID().slice(0, 8)}` } : {}),
    },
  });
  if (answer.status !== 201 && answer.status !== 200) {
    throw new Error(`create chat: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body.data.chat_id as string;
}
