import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMBEDDED_INGEST_NODE_ID, type RunningPlatform, startPlatform } from "../../app/platform.js";
import { SystemClock } from "../../runtime/clock.js";
import { loadConfig } from "../../runtime/config.js";
import { IdFactory } from "../../runtime/ids.js";
import { createLogger } from "../../runtime/logger.js";
import { runRingCli } from "../../runtime/placement/ring-cli.js";
import { createActiveChat } from "../support/chats.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";

/**
 * The operator interface end to end: `npm run ring` (run in-process) against the admin REST API of a running
 * node, here the embedded platform on dynalite, whose one ingest node joined the ring at start-up.
 */
const dynamodb = engineEndpoint("dynamodb");
const TOKEN = "test-admin-token-1234";

async function ring(platform: RunningPlatform, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runRingCli(
    [...args, "--url", platform.internalUrl, "--token", TOKEN, "--timeout", "20"],
    {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      env: {},
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    },
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe.skipIf(!dynamodb)("npm run ring", () => {
  const clock = new SystemClock();
  let platform: RunningPlatform;

  beforeAll(async () => {
    const config = loadConfig({
      env: {
        PORT: "0",
        DYNAMODB_ENDPOINT: dynamodb ?? "",
        TABLE_PREFIX: uniqueName("ringcli_"),
        NODE_ID: "ring-cli-test",
        ADMIN_TOKEN: TOKEN,
        RING_REFRESH_MS: "100",
      },
    });
    platform = await startPlatform(config, createLogger({ level: "silent" }), clock);
    const ids = new IdFactory(clock);
    for (let i = 0; i < 60; i++) {
      await createActiveChat(platform.adapters.chatStore, { ids, clock }, [ids.user()]);
    }
  }, 60_000);

  afterAll(() => platform?.stop(1_000));

  it("--help explains every command and exits 0; no command prints it and exits 2", async () => {
    const help = await ring(platform, "--help");
    expect(help.code).toBe(0);
    for (const command of ["show", "plan", "add", "remove", "drain", "weight", "--json"]) {
      expect(help.out).toContain(command);
    }
    expect((await ring(platform)).code).toBe(2);
  });

  it("show lists the embedded ingest node as the live owner of every chat", async () => {
    const shown = await ring(platform, "show");
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/ring version 1 \(settled\)/);
    expect(shown.out).toMatch(
      new RegExp(`${EMBEDDED_INGEST_NODE_ID}\\s+active\\s+100\\s+yes\\s+100\\.0%\\s+v1`),
    );
    const json = JSON.parse((await ring(platform, "show", "--json")).out);
    expect(json).toMatchObject({
      version: 1,
      settled: true,
      members: [
        { node_id: EMBEDDED_INGEST_NODE_ID, state: "active", live: true, share: 1, handoffs_pending: 0 },
      ],
    });
  });

  it("owner names the node that owns a chat", async () => {
    const owned = await ring(platform, "owner", "chat_01ARZ3NDEKTSV4RRFFQ69G5FAV");
    expect(owned.code).toBe(0);
    expect(owned.out).toBe(
      `chat_01ARZ3NDEKTSV4RRFFQ69G5FAV is owned by ${EMBEDDED_INGEST_NODE_ID} (ring version 1)`,
    );
  });

  it("plan previews the chats a change would move and changes nothing", async () => {
    const plan = JSON.parse(
      (await ring(platform, "plan", "add", "ingest-new", "--weight", "100", "--json")).out,
    );
    expect(plan.chats).toBe(60);
    expect(plan.sampled).toBe(false);
    // The new node takes about half of the chats (equal weights), all from the one existing owner.
    expect(plan.chats_moved).toBeGreaterThan(15);
    expect(plan.chats_moved).toBeLessThan(45);
    expect(plan.moves).toEqual([
      { node_id: EMBEDDED_INGEST_NODE_ID, gained: 0, lost: plan.chats_moved },
      { node_id: "ingest-new", gained: plan.chats_moved, lost: 0 },
    ]);
    const text = await ring(platform, "plan", "add", "ingest-new");
    expect(text.out).toMatch(/chats moved: \d+ of 60/);
    expect(JSON.parse((await ring(platform, "show", "--json")).out).version).toBe(1);
  });

  it("refuses unsafe changes with a clear error: unknown node, a second add, draining the last owner", async () => {
    const unknown = await ring(platform, "remove", "ingest-ghost");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/NOT_FOUND: node ingest-ghost is not a member of the ring/);
    const last = await ring(platform, "drain", EMBEDDED_INGEST_NODE_ID);
    expect(last.code).toBe(1);
    expect(last.err).toMatch(/CONFLICT: refused: after this change no active node would own chats/);
    const twice = await ring(platform, "add", EMBEDDED_INGEST_NODE_ID);
    expect(twice.err).toMatch(/CONFLICT: node embedded-ingest is already a member/);
    const badWeight = await ring(platform, "weight", EMBEDDED_INGEST_NODE_ID, "0");
    expect(badWeight.err).toMatch(/VALIDATION_ERROR: weight must be an integer from 1 to 10000/);
    expect(JSON.parse((await ring(platform, "show", "--json")).out).version).toBe(1);
  });

  it("a change prints the handoff's progress until every live node applied it", async () => {
    const changed = await ring(platform, "weight", EMBEDDED_INGEST_NODE_ID, "300");
    expect(changed.code).toBe(0);
    expect(changed.out).toMatch(/ring version 2: weight embedded-ingest 300 applied/);
    expect(changed.out).toMatch(/handoff complete: every live ingest node applied version 2/);
    expect(changed.out).toMatch(/embedded-ingest\s+active\s+300\s+yes\s+100\.0%\s+v2/);
  });

  it("a member that is not live owns nothing, and removing it needs no handoff", async () => {
    expect((await ring(platform, "add", "ingest-offline", "--no-wait")).code).toBe(0);
    const json = JSON.parse((await ring(platform, "show", "--json")).out);
    expect(json.members).toContainEqual(
      expect.objectContaining({ node_id: "ingest-offline", live: false, share: 0, applied_version: null }),
    );
    const removed = await ring(platform, "remove", "ingest-offline");
    expect(removed.code).toBe(0);
    expect(removed.out).toMatch(/handoff complete/);
  });

  it("the admin API refuses requests without the token", async () => {
    const response = await fetch(`${platform.internalUrl}/admin/ring`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "UNAUTHORIZED" } });
    const wrong = await fetch(`${platform.internalUrl}/admin/ring`, {
      headers: { authorization: "Bearer nope" },
    });
    expect(wrong.status).toBe(401);
  });

  it("is disabled without ADMIN_TOKEN outside dev mode, and says how to enable it", async () => {
    const locked = await startPlatform(
      loadConfig({
        env: {
          PORT: "0",
          DYNAMODB_ENDPOINT: dynamodb ?? "",
          TABLE_PREFIX: uniqueName("ringoff_"),
          NODE_ID: "ring-off-test",
          DEV_MODE: "false",
        },
      }),
      createLogger({ level: "silent" }),
      clock,
    );
    try {
      const response = await fetch(`${locked.internalUrl}/admin/ring`, {
        headers: { authorization: "Bearer x" },
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({
        error: { code: "FORBIDDEN", message: expect.stringContaining("set ADMIN_TOKEN") },
      });
    } finally {
      await locked.stop(1_000);
    }
  }, 30_000);
});
