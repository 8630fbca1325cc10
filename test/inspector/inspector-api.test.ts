import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startPlatform } from "../../app/platform.js";
import { SystemClock } from "../../runtime/clock.js";
import { loadConfig } from "../../runtime/config.js";
import { createLogger } from "../../runtime/logger.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import { type InspectorWorld, startInspectorWorld } from "./inspector-fixture.js";

/**
 * The inspector's JSON and WebSocket on the real embedded platform: counts per machine state match the
 * actors that exist, one actor's steps stream live, the ring lists this node, and outside dev mode nothing is
 * served without the admin token.
 */
const dynamodb = engineEndpoint("dynamodb");
const redis = engineEndpoint("redis");

interface MachineJson {
  readonly kind: string;
  readonly live: number;
  readonly counts: Record<string, number>;
  readonly ended: Record<string, number>;
}
interface SnapshotJson {
  readonly node: { node_id: string; role: string };
  readonly machines: MachineJson[];
  readonly actors: { items: Array<{ kind: string; key: string; state: string }>; total: number };
  readonly ring: {
    members: Array<{ node_id: string; live: boolean; chats: number; active_actors: number | null }>;
    live_nodes: Array<{ node_id: string; role: string }>;
    settled: boolean;
  };
}

interface Step {
  readonly type: string;
  readonly event?: string;
  readonly from?: string;
  readonly to?: string;
  readonly ended?: boolean;
  readonly state?: string | null;
}

/** An inspector WebSocket that records what it receives. */
async function watcher(url: string): Promise<{ socket: WebSocket; frames: Step[] }> {
  const socket = new WebSocket(url);
  const frames: Step[] = [];
  socket.on("message", (data) => frames.push(JSON.parse(String(data)) as Step));
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return { socket, frames };
}

describe.skipIf(!dynamodb || !redis)("the inspector API of an embedded platform", () => {
  let world: InspectorWorld;

  beforeAll(async () => {
    world = await startInspectorWorld({ dynamodb: dynamodb ?? "", redis: redis ?? "" });
  });

  afterAll(async () => {
    await world?.stop();
  });

  async function snapshot(query = ""): Promise<SnapshotJson> {
    const response = await fetch(`${world.platform.internalUrl}/inspector/api/snapshot${query}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: SnapshotJson }).data;
  }
  const machine = (data: SnapshotJson, kind: string) =>
    data.machines.find((m) => m.kind === kind) as MachineJson;

  it("counts the connections and the chat's sequencer in the states they are in", async () => {
    await world.alice.peer.sendMessage(world.chatId, "one");
    await world.bob.peer.sendMessage(world.chatId, "two");
    // The sequencer reports WORK_DONE right after answering: the count follows within a moment.
    const data = await waitFor(async () => {
      const current = await snapshot();
      return machine(current, "sequencer").counts["ready.idle"] === 1 ? current : undefined;
    });
    expect(machine(data, "connection")).toMatchObject({
      live: 2,
      counts: {
        established: 2,
        "established.liveness": 2,
        "established.liveness.alive": 2,
        "established.flow": 2,
        "established.flow.normal": 2,
      },
    });
    expect(machine(data, "sequencer")).toMatchObject({ live: 1, counts: { ready: 1, "ready.idle": 1 } });
    const connections = data.actors.items.filter((actor) => actor.kind === "connection");
    expect(connections.map((actor) => actor.key).sort()).toEqual(
      [world.alice.connectionId, world.bob.connectionId].sort(),
    );
    expect(connections[0]?.state).toBe("established.liveness.alive, established.flow.normal");
    expect(data.actors.items).toContainEqual(
      expect.objectContaining({ kind: "sequencer", key: world.chatId, state: "ready.idle" }),
    );
    // Filters: by kind and by key.
    const filtered = await snapshot(`?kind=connection&key=${world.bob.connectionId}`);
    expect(filtered.actors.items.map((actor) => actor.key)).toEqual([world.bob.connectionId]);
    expect(filtered.actors.total).toBe(1);
  });

  it("lists the embedded ingest node in the ring with its chats and active actors, and every live node", async () => {
    const data = await waitFor(async () => {
      const current = await snapshot();
      const member = current.ring.members.find((m) => m.node_id === world.platform.ingestNodeId);
      return member !== undefined && member.chats >= 1 && (member.active_actors ?? 0) >= 1
        ? current
        : undefined;
    });
    const member = data.ring.members.find((m) => m.node_id === world.platform.ingestNodeId);
    expect(member).toMatchObject({ live: true });
    expect(data.ring.live_nodes.map((node) => node.role).sort()).toEqual([
      "chatmgmt",
      "fanout",
      "gateway",
      "ingest",
    ]);
  });

  it("streams a watched connection's events and transitions until it closes", async () => {
    const base = world.platform.internalUrl.replace(/^http/, "ws");
    const { socket, frames } = await watcher(`${base}/inspector/ws`);
    try {
      socket.send(JSON.stringify({ type: "watch", kind: "connection", key: world.alice.connectionId }));
      const watching = await waitFor(() => frames.find((frame) => frame.type === "watching"));
      expect(watching.state).toBe("established.liveness.alive, established.flow.normal");
      world.alice.peer.send("heartbeat", {});
      const heartbeat = await waitFor(() => frames.find((frame) => frame.event === "HEARTBEAT"));
      expect(heartbeat).toMatchObject({
        type: "step",
        from: "established.liveness.alive, established.flow.normal",
        to: "established.liveness.alive, established.flow.normal",
        ended: false,
      });
      world.alice.peer.close();
      const closed = await waitFor(() => frames.find((frame) => frame.ended === true));
      expect(closed).toMatchObject({ type: "step", to: "closed" });
      const after = await waitFor(async () => {
        const current = await snapshot();
        return machine(current, "connection").live === 1 ? current : undefined;
      });
      expect(machine(after, "connection").ended).toMatchObject({ closed: 1 });
      expect(machine(after, "connection").counts.established).toBe(1);
    } finally {
      socket.close();
    }
  });

  it("streams a watched sequencer's transitions through XState's inspection events", async () => {
    const base = world.platform.internalUrl.replace(/^http/, "ws");
    const { socket, frames } = await watcher(`${base}/inspector/ws`);
    try {
      socket.send(JSON.stringify({ type: "watch", kind: "sequencer", key: world.chatId }));
      await waitFor(() => frames.find((frame) => frame.type === "watching"));
      await world.bob.peer.sendMessage(world.chatId, "three");
      const started = await waitFor(() => frames.find((frame) => frame.event === "WORK_STARTED"));
      expect(started).toMatchObject({ from: "ready.idle", to: "ready.busy" });
      const done = await waitFor(() => frames.find((frame) => frame.event === "WORK_DONE"));
      expect(done).toMatchObject({ from: "ready.busy", to: "ready.idle" });
    } finally {
      socket.close();
    }
  });

  it("answers a malformed filter with a validation error", async () => {
    const response = await fetch(`${world.platform.internalUrl}/inspector/api/snapshot?kind=robot`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_ERROR");
  });
});

describe.skipIf(!dynamodb || !redis)("the inspector of a cluster role outside dev mode", () => {
  const token = "inspector-test-token";
  let baseUrl: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "inspector-"));
    const platform = await startPlatform(
      loadConfig({
        env: {
          ROLE: "ingest",
          PORT: "0",
          GRPC_PORT: "0",
          HOST: "127.0.0.1",
          DATA_DIR: dataDir,
          TABLE_PREFIX: uniqueName("inspr_"),
          NODE_ID: uniqueName("inspr-"),
          DYNAMODB_ENDPOINT: dynamodb ?? "",
          REDIS_URL: redis ?? "",
          ADMIN_TOKEN: token,
          INTERNAL_GRPC_TOKEN: "inspector-test-internal-token",
        },
      }),
      createLogger({ level: "silent" }),
      new SystemClock(),
    );
    // The inspector is served by the internal listener only.
    baseUrl = platform.internalUrl;
    stop = async () => {
      await platform.stop(0);
      rmSync(dataDir, { recursive: true, force: true });
    };
  });

  afterAll(async () => {
    await stop?.();
  });

  it("refuses the page, the snapshot and the WebSocket without ADMIN_TOKEN, and serves them with it", async () => {
    expect((await fetch(`${baseUrl}/inspector`)).status).toBe(401);
    expect((await fetch(`${baseUrl}/inspector/api/snapshot`)).status).toBe(401);
    expect((await fetch(`${baseUrl}/inspector?token=wrong`)).status).toBe(401);
    const page = await fetch(`${baseUrl}/inspector?token=${token}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>Inspector</title>");
    const api = await fetch(`${baseUrl}/inspector/api/snapshot`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(api.status).toBe(200);
    const data = ((await api.json()) as { data: SnapshotJson }).data;
    expect(data.node.role).toBe("ingest");

    const ws = baseUrl.replace(/^http/, "ws");
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${ws}/inspector/ws`);
      socket.on("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
      socket.on("open", () => resolve(101));
    });
    expect(refused).toBe(401);
    const { socket } = await watcher(`${ws}/inspector/ws?token=${token}`);
    socket.close();
  });

  it("refuses the exports and the recordings without ADMIN_TOKEN, and serves them with it", async () => {
    const bearer = { authorization: `Bearer ${token}` };
    const reads = [
      "/inspector/machines/connection.json",
      "/inspector/machines/connection.svg?download=1",
      "/inspector/api/recordings",
    ];
    for (const path of reads) {
      const refused = await fetch(`${baseUrl}${path}`);
      expect(refused.status, path).toBe(401);
      expect(((await refused.json()) as { error: { code: string } }).error.code, path).toBe("UNAUTHORIZED");
      expect((await fetch(`${baseUrl}${path}`, { headers: bearer })).status, path).toBe(200);
    }
    const body = JSON.stringify({ kind: "sequencer", duration_ms: 60_000, max_events: 10 });
    const post = (headers: Record<string, string>) =>
      fetch(`${baseUrl}/inspector/api/recordings`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    expect((await post({})).status).toBe(401);
    const started = await post(bearer);
    expect(started.status).toBe(201);
    const recording = ((await started.json()) as { data: { id: string; download: string } }).data;
    expect((await fetch(`${baseUrl}${recording.download}`)).status).toBe(401);
    expect((await fetch(`${baseUrl}${recording.download}?token=${token}`)).status).toBe(200);
    const stop = `${baseUrl}/inspector/api/recordings/${recording.id}/stop`;
    expect((await fetch(stop, { method: "POST" })).status).toBe(401);
    expect((await fetch(stop, { method: "POST", headers: bearer })).status).toBe(200);
  });
});
