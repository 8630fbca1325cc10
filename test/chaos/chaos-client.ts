import { join } from "node:path";
import { MessagingClient } from "../harness/client.js";
import { SILENT_LOGGER, type TokenProvider } from "../harness/client-options.js";
import { stateFileFor } from "../harness/client-store.js";
import { RestClient, SessionFile, sessionTokens } from "../harness/rest-client.js";
import type { AckRecord, ClientRecord, HeldMessage, Receipt } from "./checker.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One chaos user: the reference client (test/harness) behind the entry URL, so to any gateway, with its own
 * state file and a REST session that refreshes its access token. The reference client does what the client
 * contract asks — reconnects with backoff, retries every unacknowledged send with the same client_message_id,
 * acknowledges, syncs after every reconnect and on gaps — and this wrapper only logs what the checker needs:
 * every ack, and the first copy of every message in arrival order with how it came (pushed live or synced).
 */
export class ChaosClient {
  readonly acks: AckRecord[] = [];
  readonly receipts: Receipt[] = [];
  reconnects = 0;
  private readonly client: MessagingClient;

  private constructor(
    readonly userId: string,
    client: MessagingClient,
    private readonly tokens: TokenProvider,
  ) {
    this.client = client;
    client.on("acked", (ack) =>
      this.acks.push({
        chatId: ack.chatId,
        clientMessageId: ack.clientMessageId,
        sequence: ack.sequence,
        messageId: ack.messageId,
      }),
    );
    // A frame is announced (`received`) before the client handles it, and `message` fires only for a message
    // it did not hold yet (a push or a sync page; an own message is stored on its ack without it): a message
    // whose first copy came in a push is one delivered live, any other one came through sync.
    let pushing: string | undefined;
    client.on("received", (frame) => {
      const payload = frame.payload as { chat_id?: string; sequence?: number };
      pushing = frame.type === "message" ? `${payload.chat_id}#${payload.sequence}` : undefined;
    });
    client.on("message", (message) => {
      const via = pushing === `${message.chat_id}#${message.sequence}` ? "push" : "sync";
      this.receipts.push({ chatId: message.chat_id, sequence: message.sequence, via });
    });
    client.on("reconnect_scheduled", () => this.reconnects++);
  }

  /** Logs in over REST (dev one-time code) and builds the client; `connect()` takes it online. */
  static async login(options: {
    readonly entryUrl: string;
    readonly phone: string;
    readonly deviceId: string;
    readonly stateDir: string;
    readonly random: () => number;
    /** Send retry interval of the reference client (MS-02). */
    readonly sendTimeoutMs: number;
  }): Promise<ChaosClient> {
    const rest = new RestClient(options.entryUrl);
    await rest.requestOtp(options.phone);
    const session = await rest.verifyOtp(options.phone, await rest.devOtp(options.phone), options.deviceId);
    const sessionFile = new SessionFile(join(options.stateDir, `${session.user_id}.session.json`));
    sessionFile.write(session);
    const wsUrl = new URL("/v1/ws", options.entryUrl);
    wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
    const tokens = sessionTokens(rest, sessionFile);
    const client = new MessagingClient({
      url: wsUrl.toString(),
      tokens,
      stateFile: stateFileFor(join(options.stateDir, "clients"), session.user_id, options.deviceId),
      deviceId: options.deviceId,
      userId: session.user_id,
      random: options.random,
      logger: SILENT_LOGGER,
      timings: { sendTimeoutMs: options.sendTimeoutMs },
    });
    return new ChaosClient(session.user_id, client, tokens);
  }

  /** An access token for REST calls of the harness (chat creation). */
  async accessToken(): Promise<string> {
    return (await this.tokens.getToken({ forceRefresh: false })).accessToken;
  }

  connect(): Promise<void> {
    return this.client.connect();
  }

  /** Starts syncing chats the user joined after the client was built. */
  track(chatIds: readonly string[]): void {
    for (const chatId of chatIds) this.client.track(chatId);
  }

  /**
   * Sends one message and waits up to `budgetMs` for its ack; the reference client keeps retrying it with the
   * same client_message_id meanwhile (and afterwards: a late ack is still logged). Resolves false without an ack.
   */
  async send(chatId: string, content: string, budgetMs: number): Promise<boolean> {
    const acked = this.client.send(chatId, content).then(
      () => true,
      () => false,
    );
    return Promise.race([acked, sleep(budgetMs).then(() => false)]);
  }

  /** Distinct messages whose first copy arrived as a live push. */
  get livePushes(): number {
    return this.receipts.filter((receipt) => receipt.via === "push").length;
  }

  /** Distinct messages whose first copy came through a sync page. */
  get syncedFirst(): number {
    return this.receipts.filter((receipt) => receipt.via === "sync").length;
  }

  /** Sends still waiting for an ack. */
  pending(): number {
    return this.client.pendingSends().length;
  }

  /**
   * Goes offline and stays there: no send, retry, ack or sync reaches the cluster until `resume`. Sends not yet
   * acknowledged stay in the client's outbox and go out again on the next connection (MS-04).
   */
  async quiesce(): Promise<void> {
    await this.client.close();
  }

  /**
   * Drops the connection and connects again through the entry proxy (so maybe to another gateway), waiting
   * at most `budgetMs` for the session; unacknowledged sends go out again.
   */
  async reconnect(budgetMs: number): Promise<void> {
    await this.client.close();
    await Promise.race([this.client.connect().catch(() => {}), sleep(budgetMs)]);
  }

  /** Comes back online and waits (bounded) until every send of the outbox was acknowledged. */
  async resume(budgetMs: number): Promise<void> {
    const deadline = Date.now() + budgetMs;
    await this.client.connect();
    while (this.pending() > 0 && Date.now() < deadline) await sleep(200);
  }

  /**
   * Converges after the run: waits (bounded) for pending sends, then reconnects — a new session syncs every
   * chat from the stored cursor (RS-01) — and waits until each of `chatIds` reports synced.
   */
  async converge(chatIds: readonly string[], budgetMs: number): Promise<void> {
    const deadline = Date.now() + budgetMs;
    while (this.pending() > 0 && Date.now() < deadline) await sleep(200);
    const waiting = new Set(chatIds);
    const off = this.client.on("synced", ({ chatId }) => waiting.delete(chatId));
    try {
      await this.client.close();
      await this.client.connect();
      while (waiting.size > 0 && Date.now() < deadline) await sleep(100);
    } finally {
      off();
    }
  }

  /** What the checker reads of this client: its logs, and what it holds in `chatIds`. */
  record(chatIds: readonly string[]): ClientRecord {
    const held = new Map<string, HeldMessage[]>();
    for (const chatId of chatIds) {
      held.set(
        chatId,
        this.client.messages(chatId).map((message) => ({
          sequence: message.sequence,
          messageId: message.message_id,
          content: message.content,
        })),
      );
    }
    return { userId: this.userId, acks: this.acks, receipts: this.receipts, held };
  }

  async stop(): Promise<void> {
    await Promise.race([this.client.close().catch(() => {}), sleep(5_000)]);
    this.client.abandon();
  }
}
