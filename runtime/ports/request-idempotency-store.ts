/**
 * REST `Idempotency-Key` records (table `request_idempotency`, spec §1): scope `<user>#<endpoint>#<key>`,
 * kept 24 h (D12: expired records are ignored and may be replaced). A record is claimed `pending` before
 * the side effects, holding the ids the request will create, so that a retry after a crash completes the
 * same work instead of doing it twice; it becomes `done` with the response status. Only status and ids are
 * stored: a replay rebuilds its body from current state.
 */
export const REQUEST_STATES = ["pending", "done"] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export interface RequestIdempotencyRecord {
  readonly scopeKey: string;
  /** SHA-256 of the canonical request body: the same key with another body is refused. */
  readonly requestHash: string;
  readonly state: RequestState;
  /** Ids the request creates (e.g. `{ chat_id }`), fixed when the key is first claimed. */
  readonly resourceIds: Readonly<Record<string, string>>;
  /** The HTTP status of the completed request. */
  readonly responseStatus?: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface RequestIdempotencyStore {
  /**
   * Claims the key with a pending record unless an unexpired record holds it. Returns undefined when this
   * call claimed it, else the record in force (strongly consistent).
   */
  claim(record: RequestIdempotencyRecord): Promise<RequestIdempotencyRecord | undefined>;

  /** Marks a claimed record done with the response status. */
  complete(scopeKey: string, responseStatus: number): Promise<void>;
}
