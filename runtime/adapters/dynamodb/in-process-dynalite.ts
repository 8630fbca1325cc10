import type { MessagePort } from "node:worker_threads";

/**
 * DynamoDB requests to a dynalite thread of this process without HTTP. The embedded platform's storage is
 * dynalite on a worker thread (dynalite-worker.ts); over loopback HTTP every request paid for a client
 * request, a socket write, an HTTP parse on each side and the agent's bookkeeping, on the platform's own
 * event loop. Here a request is one message to the thread and one back, handled there by dynalite's own
 * request handler (dynalite-thread.mjs), so validation and actions are exactly those of the HTTP path.
 *
 * The DynamoDB client (client.ts) takes this path for an endpoint registered here, i.e. only for a dynalite
 * started in this process; any other endpoint, and every other process, goes over HTTP as before.
 */

/** A request as the SDK builds it (the fields of @smithy/protocol-http's HttpRequest that are used). */
export interface SdkHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Record<string, string | string[] | null>;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

/** A response in the shape the SDK's deserializers read. */
export interface SdkHttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

interface Reply {
  readonly id: number;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly error?: string;
}

interface Pending {
  resolve(response: SdkHttpResponse): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * An error as the HTTP path would raise it, which the SDK and `dynamoFailure` read alike: a timeout by its
 * name, an unreachable engine by its socket error code.
 */
function failure(name: string, message: string): Error {
  return Object.assign(new Error(message), {
    name,
    $metadata: {},
    ...(name.startsWith("E") ? { code: name } : {}),
  });
}

/** One MessagePort to a dynalite thread: requests numbered, answered in any order, each bounded in time. */
export class InProcessDynalite {
  private next = 0;
  private closed = false;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly port: MessagePort,
    /** A request not answered within this is failed as a timeout (as the HTTP path's requestTimeout). */
    private readonly timeoutMs: number,
  ) {
    port.on("message", (reply: Reply) => this.settle(reply));
    port.on("close", () => this.close());
    // The thread keeps the process alive while it runs; the port alone must not.
    port.unref();
  }

  send(request: SdkHttpRequest): Promise<SdkHttpResponse> {
    if (this.closed) return Promise.reject(failure("ECONNREFUSED", "the dynalite thread has stopped"));
    const id = this.next++;
    const body = bodyText(request.body);
    return new Promise<SdkHttpResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(failure("TimeoutError", `no answer from the dynalite thread within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.port.postMessage({
        id,
        method: request.method,
        url: `${request.path}${queryString(request.query)}`,
        headers: lowerCased(request.headers),
        body,
      });
    });
  }

  /** Fails what is in flight; later requests fail at once (the SDK reports the engine unreachable). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(failure("ECONNRESET", "the dynalite thread stopped before answering"));
      this.pending.delete(id);
    }
    this.port.close();
  }

  private settle(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.error !== undefined) {
      pending.reject(failure("InternalServerError", `dynalite failed: ${reply.error}`));
      return;
    }
    pending.resolve({
      statusCode: reply.status,
      headers: reply.headers,
      body: Buffer.from(reply.body, "utf8"),
    });
  }
}

/** The SDK's JSON protocols give the body as a string or as bytes. */
function bodyText(body: unknown): string {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  return "";
}

const lowerCased = (headers: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

function queryString(query: SdkHttpRequest["query"]): string {
  const pairs = Object.entries(query ?? {}).flatMap(([name, value]) =>
    value === null
      ? [encodeURIComponent(name)]
      : (Array.isArray(value) ? value : [value]).map(
          (one) => `${encodeURIComponent(name)}=${encodeURIComponent(one)}`,
        ),
  );
  return pairs.length === 0 ? "" : `?${pairs.join("&")}`;
}

/** dynalite threads of this process by endpoint URL (`http://127.0.0.1:<port>`). */
const registered = new Map<string, InProcessDynalite>();

export function registerInProcessDynalite(endpoint: string, transport: InProcessDynalite): () => void {
  registered.set(normalized(endpoint), transport);
  return () => {
    if (registered.get(normalized(endpoint)) === transport) registered.delete(normalized(endpoint));
    transport.close();
  };
}

/** The in-process path to `endpoint`, when a dynalite thread of this process serves it. */
export function inProcessDynalite(endpoint: string): InProcessDynalite | undefined {
  return registered.get(normalized(endpoint));
}

/** `http://localhost:1234/` and `http://127.0.0.1:1234` name the same listener. */
function normalized(endpoint: string): string {
  const url = new URL(endpoint);
  const host = url.hostname === "localhost" ? "127.0.0.1" : url.hostname;
  return `${url.protocol}//${host}:${url.port}`;
}

/**
 * The SDK's request handler for the dynalite thread serving `endpoint` (the interface of
 * @smithy/node-http-handler's NodeHttpHandler that the client calls). The thread is looked up per request:
 * while it is stopped requests fail as refused connections, and a thread started again on the same endpoint
 * serves them, as with HTTP. An aborted request is answered as aborted; the thread still finishes it, as a
 * server would.
 */
export function inProcessRequestHandler(endpoint: string) {
  return {
    metadata: { handlerProtocol: "in-process" },
    handle: async (
      request: SdkHttpRequest,
      options?: { abortSignal?: { aborted: boolean } },
    ): Promise<{ response: SdkHttpResponse }> => {
      if (options?.abortSignal?.aborted) throw failure("AbortError", "Request aborted");
      const transport = inProcessDynalite(endpoint);
      if (transport === undefined) throw failure("ECONNREFUSED", `no dynalite thread serves ${endpoint} now`);
      return { response: await transport.send(request) };
    },
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
    destroy: () => {},
  };
}
