import { createHash } from "node:crypto";
import { Inject, Injectable } from "@nestjs/common";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type {
  RequestIdempotencyRecord,
  RequestIdempotencyStore,
} from "../../runtime/ports/request-idempotency-store.js";
import { CLOCK, REQUEST_IDEMPOTENCY_STORE } from "../tokens.js";

/** Spec §1: keys live 24 h from first use. */
const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export interface IdempotentRequest {
  /** The caller's key (`Idempotency-Key`), absent when none was sent. */
  readonly key: string | undefined;
  readonly userId: string;
  /** e.g. `POST /chats`. */
  readonly endpoint: string;
  /** The validated body; hashed canonically (keys sorted). */
  readonly body: unknown;
  /** The ids this request would create; kept with the claim so a retry creates the same ones. */
  readonly resourceIds: Readonly<Record<string, string>>;
}

export type Claim =
  | { readonly kind: "none"; readonly resourceIds: Readonly<Record<string, string>> }
  | {
      readonly kind: "claimed";
      readonly scopeKey: string;
      readonly resourceIds: Readonly<Record<string, string>>;
    }
  /** An earlier request with this key: finished (`done`) or still running/crashed (`pending`). */
  | {
      readonly kind: "replay";
      readonly scopeKey: string;
      readonly record: RequestIdempotencyRecord;
      readonly resourceIds: Readonly<Record<string, string>>;
    };

const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : typeof value === "object" && value !== null
      ? Object.fromEntries(
          Object.entries(value)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => [k, canonical(v)]),
        )
      : value;

export const requestHash = (body: unknown): string =>
  createHash("sha256")
    .update(JSON.stringify(canonical(body)))
    .digest("hex");

/** Idempotency keys of spec §1 (`Idempotency-Key`), kept per user and endpoint for IDEMPOTENCY_TTL_MS. */
@Injectable()
export class RequestIdempotency {
  constructor(
    @Inject(REQUEST_IDEMPOTENCY_STORE) private readonly requestIdempotencyStore: RequestIdempotencyStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Claims the key, or finds the earlier request; the same key with another body is IDEMPOTENCY_KEY_REUSED. */
  async claim(request: IdempotentRequest): Promise<Claim> {
    if (request.key === undefined) return { kind: "none", resourceIds: request.resourceIds };
    const now = this.clock.now();
    const scopeKey = `${request.userId}#${request.endpoint}#${request.key}`;
    const hash = requestHash(request.body);
    const existing = await this.requestIdempotencyStore.claim({
      scopeKey,
      requestHash: hash,
      state: "pending",
      resourceIds: request.resourceIds,
      createdAt: now,
      expiresAt: now + IDEMPOTENCY_TTL_MS,
    });
    if (existing === undefined) return { kind: "claimed", scopeKey, resourceIds: request.resourceIds };
    if (existing.requestHash !== hash) {
      throw new AppError(
        "IDEMPOTENCY_KEY_REUSED",
        "this Idempotency-Key was used with another request body",
        {
          details: { idempotency_key: request.key },
        },
      );
    }
    return { kind: "replay", scopeKey, record: existing, resourceIds: existing.resourceIds };
  }

  /** Records the status a claimed request answered with, so that replays answer the same. */
  async complete(claim: Claim, status: number): Promise<void> {
    // A pending replay that finished the work of a crashed first attempt completes the record too.
    if (claim.kind !== "none") await this.requestIdempotencyStore.complete(claim.scopeKey, status);
  }
}
