import { createHash } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { AppError } from "../../errors.js";

/**
 * A client to share, or a URL for a client of our own (closed by `close()`). A shared client must not use
 * ioredis' `keyPrefix`: the scripts build key names themselves, from our own `keyPrefix`.
 */
export type RedisConnection = Redis | string;

/**
 * Defaults of a client we create: while Redis is down a call fails within about a second with
 * SERVICE_UNAVAILABLE (D7: fanout then broadcasts; gateways refuse new connections) instead of waiting in
 * ioredis' offline queue for a reconnect that may never come. The offline queue itself stays on, so the
 * first calls after start-up wait for the connection rather than fail.
 */
const FAIL_FAST_REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 1_000,
  commandTimeout: 2_000,
};

export interface RedisRegistryOptions {
  readonly redis: RedisConnection;
  /** Starts every key, e.g. `routing:`; isolates deployments (and test suites) sharing one Redis. */
  readonly keyPrefix: string;
  /** For a client made from a URL; merged over FAIL_FAST_REDIS_OPTIONS. */
  readonly redisOptions?: RedisOptions;
  /**
   * Told about each failed (re)connect of a client made from a URL, e.g. to log it. Calls fail with
   * SERVICE_UNAVAILABLE either way; without a listener ioredis would print every attempt to the console.
   */
  readonly onConnectionError?: (error: Error) => void;
}

/** Replies of a Redis that is up but cannot serve now (loading, busy script, out of memory, replica). */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|OOM|READONLY|MASTERDOWN|MISCONF|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * Any failure of a Redis call as an AppError. Everything except an error reply is the connection's fault
 * (refused, closed, timed out, retries exhausted) and so SERVICE_UNAVAILABLE; an error reply is our bug
 * unless it says Redis is temporarily unable. The ioredis error stays the cause, for logs.
 */
function redisFailure(error: unknown, operation: string): AppError {
  if (error instanceof AppError) return error;
  const isReply = error instanceof Error && error.name === "ReplyError";
  if (!isReply || UNAVAILABLE_REPLY.test(error.message)) {
    return new AppError("SERVICE_UNAVAILABLE", "routing is unavailable", {
      cause: error,
      details: { operation },
    });
  }
  return new AppError("INTERNAL_ERROR", `redis ${operation} failed`, { cause: error, public: false });
}

/** A Lua script run by EVALSHA, loaded with EVAL the first time a server does not know it. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }
}

/** The client, key prefix and failure mapping shared by the Redis registries. */
export class RedisScripts {
  readonly client: Redis;
  readonly prefix: string;
  private readonly owned: boolean;

  constructor(options: RedisRegistryOptions) {
    this.prefix = options.keyPrefix;
    if (typeof options.redis === "string") {
      this.client = new Redis(options.redis, { ...FAIL_FAST_REDIS_OPTIONS, ...options.redisOptions });
      this.client.on("error", options.onConnectionError ?? (() => {}));
      this.owned = true;
    } else if (options.redis.options.keyPrefix) {
      throw new Error(
        "the Redis client has an ioredis keyPrefix: pass the prefix as the registry's keyPrefix",
      );
    } else {
      this.client = options.redis;
      this.owned = false;
    }
  }

  /** Runs a script with the key prefix as ARGV[1]; failures become AppErrors. */
  async run(operation: string, script: LuaScript, args: readonly (string | number)[]): Promise<unknown> {
    return this.call(operation, async (client) => {
      try {
        return await client.evalsha(script.sha, 0, this.prefix, ...args);
      } catch (error) {
        if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
        return client.eval(script.source, 0, this.prefix, ...args);
      }
    });
  }

  async call<T>(operation: string, command: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await command(this.client);
    } catch (error) {
      throw redisFailure(error, operation);
    }
  }

  /** Closes the client if we created it; a shared client is its owner's to close. */
  async close(): Promise<void> {
    if (this.owned) await this.client.quit().catch(() => this.client.disconnect());
  }
}
