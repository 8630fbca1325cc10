import type { Clock } from "../../clock.js";
import type {
  RequestIdempotencyRecord,
  RequestIdempotencyStore,
} from "../../ports/request-idempotency-store.js";
import { isInForce } from "../store-arguments.js";

/** The REST idempotency-key store in memory, for unit tests; same semantics as the DynamoDB adapter. */
export class MemoryRequestIdempotencyStore implements RequestIdempotencyStore {
  private readonly records = new Map<string, RequestIdempotencyRecord>();

  constructor(private readonly options: { readonly clock: Pick<Clock, "now"> }) {}

  async claim(record: RequestIdempotencyRecord): Promise<RequestIdempotencyRecord | undefined> {
    const stored = this.records.get(record.scopeKey);
    if (stored !== undefined && isInForce(stored, this.options.clock.now())) return stored;
    this.records.set(record.scopeKey, Object.freeze({ ...record }));
    return undefined;
  }

  async complete(scopeKey: string, responseStatus: number): Promise<void> {
    const stored = this.records.get(scopeKey);
    if (stored !== undefined) {
      this.records.set(scopeKey, Object.freeze({ ...stored, state: "done", responseStatus }));
    }
  }
}
