import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webRoute } from "../../chatmgmt/web/web-route.js";

/**
 * The client's ordering, dedupe and ack rules (client contract MR-01..05, AK-01..05) in the real browser, on
 * frames fed straight to messenger.js: the arrival orders a live server only produces by chance (duplicates,
 * a gap, out-of-order pushes) are made here on purpose. Only webRoute serves the page; no platform needed.
 */
const CHROMIUM = "/usr/bin/chromium";
const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === "true") {
  describe("the client's message rules", () => {
    it("needs Chromium under CI", () => {
      throw new Error(`${CHROMIUM} is missing: under CI=true the browser suite must run`);
    });
  });
}

/** The page's storage, for the function that runs inside it (this project's TypeScript has no DOM lib). */
declare const localStorage: { clear(): void; getItem(key: string): string | null };

/** What the test touches of messenger.js's Messenger. */
interface PageMessenger {
  connection: unknown;
  readonly chats: Map<string, { cursor: number }>;
  readonly ackTimer: ReturnType<typeof setInterval>;
  track(chatId: string, newestSequence: number): void;
  onFrame(frame: unknown): void;
  flushAcks(): void;
  messagesOf(chatId: string): Array<{ sequence: number }>;
  send(chatId: string, content: string): void;
  readonly outbox: Array<{ client_message_id: string }>;
}

interface Outcome {
  readonly sequences: number[];
  readonly acks: Array<{ chat_id: string; last_acked_sequence: number }>;
  readonly stored: number[];
  readonly cursor: number;
  readonly syncs: number[];
}

describe.skipIf(!haveChromium)("the client's message rules", () => {
  let server: Server;
  let origin: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const route = webRoute();
    server = createServer((request, response) => {
      void (async () => {
        if (!(await route(request, response, "test"))) response.writeHead(404).end();
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    page = await browser.newPage();
    // A blank page of the same origin: the modules are imported by the test, not booted by index.html.
    await page.goto(`${origin}/web/style.css`);
    await page.addScriptTag({
      type: "module",
      content: 'import { Messenger } from "/web/messenger.js"; globalThis.Messenger = Messenger;',
    });
    await page.waitForFunction(() => "Messenger" in globalThis);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  /** Feeds `pushes` (sequences of one chat) to a fresh Messenger whose socket is a recorder, then flushes acks. */
  const run = (pushes: number[], syncReply?: number[]): Promise<Outcome> =>
    page.evaluate(
      async ({ pushes, syncReply }) => {
        const { Messenger } = globalThis as unknown as { Messenger: new (deps: unknown) => PageMessenger };
        localStorage.clear();
        const chatId = "chat_01JTEST0000000000000000000";
        const api = {
          me: { user_id: "user_01JME00000000000000000000" },
          signedIn: true,
          accessToken: "",
          secondsLeft: () => 3600,
          refresh: async () => true,
          deliveryStates: async () => [],
        };
        const messenger = new Messenger({
          api,
          deviceId: "device-test",
          onChange: () => {},
          onState: () => {},
          onUnknownChat: () => {},
        });
        const acks: unknown[] = [];
        const syncs: number[] = [];
        let inFlight = 0;
        const message = (sequence: number) => ({
          message_id: `msg_${sequence}`,
          chat_id: chatId,
          sequence,
          sender_id: "user_01JOTHER000000000000000000",
          content: `m${sequence}`,
          content_type: "text/plain",
          created_at: new Date(1_800_000_000_000 + sequence).toISOString(),
        });
        // The connection, recorded: acks are kept, a sync answers `syncReply` above the cursor it was given.
        const recorder = {
          ready: false,
          state: "online",
          send: (frame: { type: string; payload: unknown }) => {
            if (frame.type === "ack") acks.push(frame.payload);
            return true;
          },
          request: async (_type: string, payload: { last_acked_sequence: number }) => {
            syncs.push(payload.last_acked_sequence);
            inFlight++;
            // Counted out one task later: the messenger has handled the reply by then.
            setTimeout(() => inFlight--, 0);
            const messages = (syncReply ?? []).filter((s) => s > payload.last_acked_sequence).map(message);
            return { type: "sync_response", payload: { chat_id: chatId, messages, has_more: false } };
          },
          setState: () => {},
          stop: () => {},
        };
        messenger.connection = recorder;
        // Known before connecting (no sync at first sight), then connected.
        messenger.track(chatId, 0);
        recorder.ready = true;
        for (const sequence of pushes) messenger.onFrame({ type: "message", payload: message(sequence) });
        // Gap syncs run in the background (MR-03): wait until every one has been answered and handled.
        do await new Promise((resolve) => setTimeout(resolve, 0));
        while (inFlight > 0);
        messenger.flushAcks();
        const saved = JSON.parse(localStorage.getItem(`mp.${api.me.user_id}.chat.${chatId}`) ?? "{}");
        const outcome = {
          sequences: messenger.messagesOf(chatId).map((m) => m.sequence),
          acks,
          stored: (saved.messages ?? []).map((m: { sequence: number }) => m.sequence),
          cursor: messenger.chats.get(chatId)?.cursor ?? -1,
          syncs,
        };
        clearInterval(messenger.ackTimer);
        return outcome;
      },
      { pushes, syncReply },
    ) as Promise<Outcome>;

  it("orders by sequence, not arrival, and drops duplicates by (chat_id, sequence)", async () => {
    const outcome = await run([3, 1, 2, 2, 1, 3]);
    expect(outcome.sequences).toEqual([1, 2, 3]);
    expect(outcome.acks).toEqual([{ chat_id: "chat_01JTEST0000000000000000000", last_acked_sequence: 3 }]);
  });

  it("acks cumulatively, once per flush, only after the messages are in local storage", async () => {
    const outcome = await run([1, 2, 3, 4, 5]);
    expect(outcome.acks).toHaveLength(1);
    expect(outcome.acks[0]?.last_acked_sequence).toBe(5);
    expect(outcome.stored).toEqual([1, 2, 3, 4, 5]);
  });

  it("never acks past a gap, shows what arrived, and syncs from the cursor to fill it", async () => {
    // 1, 2 and 4 arrive; 3 is missing and the sync the gap triggers does not return it (yet).
    const gap = await run([1, 2, 4], []);
    expect(gap.sequences).toEqual([1, 2, 4]);
    expect(gap.cursor).toBe(2);
    expect(gap.acks.map((ack) => ack.last_acked_sequence)).toEqual([2]);
    expect(gap.syncs).toEqual([2]);

    // The sync returns everything above its cursor, 3 included: the cursor passes 4 and the ack covers it.
    const filled = await run([1, 2, 4], [1, 2, 3, 4]);
    expect(filled.sequences).toEqual([1, 2, 3, 4]);
    expect(filled.cursor).toBe(4);
    expect(filled.acks.map((ack) => ack.last_acked_sequence)).toEqual([4]);
    expect(filled.syncs).toEqual([2]);
  });

  it("keeps an unsent message in local storage and shows it once when its push beats its ack", async () => {
    const outcome = await page.evaluate(async () => {
      const { Messenger } = globalThis as unknown as { Messenger: new (deps: unknown) => PageMessenger };
      localStorage.clear();
      const chatId = "chat_01JTEST0000000000000000000";
      const me = "user_01JME00000000000000000000";
      const messenger = new Messenger({
        api: { me: { user_id: me }, signedIn: true, accessToken: "", secondsLeft: () => 3600 },
        deviceId: "device-test",
        onChange: () => {},
        onState: () => {},
        onUnknownChat: () => {},
      });
      messenger.connection = {
        ready: false,
        state: "offline",
        send: () => false,
        setState: () => {},
        stop: () => {},
      };
      messenger.track(chatId, 0);
      messenger.send(chatId, "hello");
      const queued = messenger.outbox[0]?.client_message_id ?? "";
      const storedWhileQueued = JSON.parse(localStorage.getItem(`mp.${me}.outbox`) ?? "[]").length;
      const wire = {
        message_id: "msg_1",
        chat_id: chatId,
        sequence: 1,
        created_at: new Date().toISOString(),
      };
      messenger.onFrame({
        type: "message",
        payload: { ...wire, sender_id: me, content: "hello", content_type: "text/plain" },
      });
      messenger.onFrame({ type: "send_message_ack", payload: { ...wire, client_message_id: queued } });
      const outcome = {
        sequences: messenger.messagesOf(chatId).map((m) => m.sequence),
        outbox: messenger.outbox.length,
        storedWhileQueued,
        storedAfterAck: JSON.parse(localStorage.getItem(`mp.${me}.outbox`) ?? "[]").length,
      };
      clearInterval(messenger.ackTimer);
      return outcome;
    });
    expect(outcome).toEqual({ sequences: [1], outbox: 0, storedWhileQueued: 1, storedAfterAck: 0 });
  });
});
