import type { Clock } from "../clock.js";
import { defaultConfig } from "../config.js";
import { AppError, toAppError } from "../errors.js";
import { IngestGrpcClient } from "../grpc/ingest-client.js";
import type { ChatId } from "../ids.js";
import type {
  AckRequest,
  AckResult,
  IngestApi,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../ingest-api.js";
import type { Logger } from "../logger.js";
import type { RingView } from "./ring-view.js";

export interface RoutedIngestOptions {
  readonly view: RingView;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Time one call may spend finding the owner, retries included. It covers a dead node's heartbeat TTL plus
   * a ring refresh, so a send during a failover or handoff is delayed, not failed. Default: ROUTING_BUDGET_MS's.
   */
  readonly budgetMs?: number;
  /** Owner calls per request at most. Default 12. */
  readonly maxAttempts?: number;
  /** The per-node client; gRPC unless given (tests and the embedded mode may call in-process). */
  readonly connect?: (address: string) => IngestApi & { close(): void };
}

/** One persist in flight: the owner it is at now (undefined between attempts) and its settlement. */
interface LaneCall {
  address: string | undefined;
  done: Promise<unknown>;
}

const ROUTING_DEFAULTS = {
  maxAttempts: 12,
  firstBackoffMs: 25,
  maxBackoffMs: 2_000,
} as const;

/**
 * IngestApi routed by the ring (D5), for gateways and anything else that calls a chat's owner: resolve the
 * owner, call it, and on NOT_OWNER or an unreachable owner refresh the ring and retry on whoever owns the
 * chat now, with backoff, bounded in attempts and time. Retrying is safe for every call: persists are
 * idempotent by client_message_id (D2), syncs are reads and acks are monotonic (D8).
 */
export class RoutedIngestClient implements IngestApi {
  private readonly clients = new Map<string, IngestApi & { close(): void }>();
  private readonly budgetMs: number;
  private readonly maxAttempts: number;
  private readonly connect: (address: string) => IngestApi & { close(): void };
  private closed = false;
  /** Persists in flight per chat, in the order they were issued (see persist). */
  private readonly lanes = new Map<ChatId, Set<LaneCall>>();
  /** Calls that needed more than one attempt, and the attempts they made: visible to tests and metrics. */
  readonly stats = { rerouted: 0, notOwner: 0, unavailable: 0 };

  constructor(private readonly options: RoutedIngestOptions) {
    this.budgetMs = options.budgetMs ?? defaultConfig().routingBudgetMs;
    this.maxAttempts = options.maxAttempts ?? ROUTING_DEFAULTS.maxAttempts;
    this.connect = options.connect ?? ((address) => new IngestGrpcClient({ address }));
    // Nodes that left the ring keep no channel open.
    options.view.onChange((next) => {
      const addresses = new Set([...next.live.values()].map((node) => node.address));
      for (const [address, client] of this.clients) {
        if (addresses.has(address)) continue;
        client.close();
        this.clients.delete(address);
      }
    });
  }

  /**
   * Persists keep their order per chat across an owner change. Both owners may accept writes for a moment
   * (D2's conditional writes keep that safe), so a send routed to the new owner could otherwise be stored
   * before an earlier one still in flight at the old owner, or waiting to retry: a send waits for every
   * earlier send of its chat from this router that is not at the owner it is about to call.
   */
  persist(request: PersistRequest): Promise<PersistResult> {
    const { chatId } = request;
    let lane = this.lanes.get(chatId);
    if (lane === undefined) {
      lane = new Set();
      this.lanes.set(chatId, lane);
    }
    const earlier = [...lane];
    const call: LaneCall = { address: undefined, done: Promise.resolve() };
    const result = this.route(chatId, async (api, address) => {
      const elsewhere = earlier.filter((other) => other.address !== address && lane.has(other));
      if (elsewhere.length > 0) await Promise.allSettled(elsewhere.map((other) => other.done));
      call.address = address;
      try {
        return await api.persist(request);
      } catch (error) {
        // Between attempts a call is at no owner: later sends wait for it wherever they go.
        call.address = undefined;
        throw error;
      }
    });
    call.done = result.finally(() => {
      lane.delete(call);
      if (lane.size === 0 && this.lanes.get(chatId) === lane) this.lanes.delete(chatId);
    });
    lane.add(call);
    // The lane's copy must not surface a rejection the caller already handles.
    call.done.catch(() => {});
    return result;
  }

  sync(request: SyncRequest): Promise<SyncResult> {
    return this.route(request.chatId, (api) => api.sync(request));
  }

  ack(request: AckRequest): Promise<AckResult> {
    return this.route(request.chatId, (api) => api.ack(request));
  }

  close(): void {
    this.closed = true;
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private async route<T>(chatId: ChatId, call: (api: IngestApi, address: string) => Promise<T>): Promise<T> {
    const { clock, view } = this.options;
    const deadline = clock.now() + this.budgetMs;
    let snapshot = view.current();
    let failure: AppError | undefined;
    let backoffMs: number = ROUTING_DEFAULTS.firstBackoffMs;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (this.closed) throw new AppError("SERVICE_UNAVAILABLE", "the ingest router is closed");
      const owner = snapshot.ownerOf(chatId);
      if (owner === undefined) {
        failure = new AppError("SERVICE_UNAVAILABLE", "no live ingest node owns this chat now");
      } else {
        try {
          const result = await call(this.clientFor(owner.address), owner.address);
          if (attempt > 1) this.stats.rerouted++;
          return result;
        } catch (error) {
          failure = toAppError(error);
          if (failure.code === "NOT_OWNER") this.stats.notOwner++;
          else if (failure.code === "SERVICE_UNAVAILABLE") this.stats.unavailable++;
          else throw failure;
        }
      }
      // NOT_OWNER: our ring is behind (or the node's is); a refresh usually answers at once. Unreachable:
      // the node may be dead; its heartbeat expires within the TTL and the refreshed ring moves the chat.
      const retryNow = failure.code === "NOT_OWNER" && attempt === 1;
      const waitMs = retryNow ? 0 : backoffMs;
      if (clock.now() + waitMs >= deadline) break;
      if (waitMs > 0) await sleep(clock, waitMs);
      backoffMs = Math.min(backoffMs * 2, ROUTING_DEFAULTS.maxBackoffMs);
      snapshot = await view.refresh().catch((error: unknown) => {
        this.options.logger.warn({ err: error }, "ring refresh failed while routing; using the last ring");
        return view.current();
      });
    }
    // A caller sees a retryable SERVICE_UNAVAILABLE, never NOT_OWNER (an internal code).
    throw failure?.code === "SERVICE_UNAVAILABLE"
      ? failure
      : new AppError("SERVICE_UNAVAILABLE", "the chat's owner could not be reached in time", {
          cause: failure,
        });
  }

  private clientFor(address: string): IngestApi {
    let client = this.clients.get(address);
    if (client === undefined) {
      client = this.connect(address);
      this.clients.set(address, client);
    }
    return client;
  }
}

const sleep = (clock: Clock, ms: number): Promise<void> =>
  new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
