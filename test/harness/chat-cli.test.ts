import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import { remoteJwks } from "../../gateway/jwt-keys.js";
import { InProcessEventLog } from "../../runtime/adapters/memory/event-log.js";
import { createLogger } from "../../runtime/logger.js";
import { TOPICS } from "../../runtime/topics.js";
import { type ChatMgmtFixture, chatMgmtFixture, newPhone } from "../support/chatmgmt-fixture.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { Redis, type RunningGateway, startGateway } from "../support/gateway-harness.js";
import { runCli } from "./chat-cli.js";

const dynamodb = engineEndpoint("dynamodb");
const redisUrl = engineEndpoint("redis");

interface Run {
  code: number;
  out: string[];
  err: string[];
}

describe("chat CLI: usage", () => {
  const run = async (...argv: string[]): Promise<Run> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      env: {},
    });
    return { code, out, err };
  };

  it("every command answers --help", async () => {
    for (const command of ["login", "chats", "create", "send", "tail"]) {
      const { code, out } = await run(command, "--help");
      expect(code).toBe(0);
      expect(out.join("\n")).toContain(`npm run chat -- ${command}`);
      expect(out.join("\n")).toContain("--url");
      expect(out.join("\n")).toContain("--json");
    }
    expect((await run("--help")).out.join("\n")).toContain("Commands:");
  });

  it("an unknown command or missing arguments is a usage error (exit 2)", async () => {
    expect((await run("frobnicate")).code).toBe(2);
    expect((await run("send", "chat_x")).code).toBe(2);
    expect((await run()).code).toBe(2);
  });
});

/**
 * The CLI end to end against the real planes: chat management's REST (login with the dev OTP endpoint, chats)
 * and a gateway that verifies chat management's tokens through its JWKS, in front of an IngestService on the
 * same DynamoDB tables. The CLI itself runs on wall time (its own SystemClock).
 */
describe.skipIf(!dynamodb || !redisUrl)("chat CLI against chat management and the gateway", () => {
  let cm: ChatMgmtFixture;
  let redis: Redis;
  let gateway: RunningGateway;
  let ingest: IngestService;
  let dir: string;

  beforeAll(async () => {
    cm = await chatMgmtFixture();
    redis = new Redis(redisUrl ?? "");
    const eventLog = new InProcessEventLog({ clock: cm.clock });
    await eventLog.ensureTopics([{ name: TOPICS.messagesPersisted, partitions: 2 }]);
    ingest = new IngestService({
      messageStore: cm.stores.messageStore,
      chatStore: cm.stores.chatStore,
      eventLog,
      clock: cm.clock,
      ids: cm.ids,
      logger: createLogger({ level: "silent" }),
      producerId: uniqueName("cli-ingest-"),
    });
    gateway = await startGateway({
      clock: cm.clock,
      ids: cm.ids,
      ingest,
      keys: remoteJwks({ url: `${cm.baseUrl}/.well-known/jwks.json` }),
      redis,
    });
    dir = mkdtempSync(join(tmpdir(), "chat-cli-"));
  });

  afterAll(async () => {
    await gateway?.close();
    redis?.disconnect();
    await ingest?.shutdown().catch(() => {});
    await cm?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (
    user: string,
    argv: string[],
    options: { signal?: AbortSignal; onOut?: (line: string) => void } = {},
  ): Promise<Run> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      [...argv, "--url", cm.baseUrl, "--ws-url", gateway.url, "--state-dir", join(dir, user), "--json"],
      {
        out: (line) => {
          out.push(line);
          options.onOut?.(line);
        },
        err: (line) => err.push(line),
        env: {},
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
    );
    return { code, out, err };
  };

  it("login, create, chats, send and tail work against the real servers", async () => {
    const alice = await cli("alice", ["login", newPhone()]);
    expect(alice.code, alice.err.join("\n")).toBe(0);
    const aliceId = JSON.parse(alice.out[0] ?? "{}").user_id as string;
    const bob = await cli("bob", ["login", newPhone()]);
    expect(bob.code).toBe(0);
    const bobId = JSON.parse(bob.out[0] ?? "{}").user_id as string;
    expect(aliceId).toMatch(/^user_/);

    const created = await cli("alice", ["create", "group", bobId, "--name", "cli team"]);
    expect(created.code, created.err.join("\n")).toBe(0);
    const chatId = JSON.parse(created.out[0] ?? "{}").chat_id as string;
    expect(chatId).toMatch(/^chat_/);

    const listed = await cli("bob", ["chats"]);
    expect(listed.code).toBe(0);
    expect(listed.out.map((line) => JSON.parse(line).chat_id)).toContain(chatId);

    const sent = await cli("alice", ["send", chatId, "hello", "from", "the", "cli"]);
    expect(sent.code, sent.err.join("\n")).toBe(0);
    expect(JSON.parse(sent.out[0] ?? "{}")).toMatchObject({ chatId, sequence: 1 });

    // tail with no chat named: bob's chats come from REST, the message from the sync on connect.
    const stop = new AbortController();
    const tailing = cli("bob", ["tail"], {
      signal: stop.signal,
      onOut: (line) => {
        if (JSON.parse(line).content === "hello from the cli") stop.abort();
      },
    });
    const tailed = await tailing;
    expect(tailed.code, tailed.err.join("\n")).toBe(0);
    const lines = tailed.out.map((line) => JSON.parse(line));
    expect(lines).toContainEqual(
      expect.objectContaining({ chat_id: chatId, sequence: 1, content: "hello from the cli" }),
    );
  });
});
