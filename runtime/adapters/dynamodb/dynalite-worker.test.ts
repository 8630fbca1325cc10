import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../../deploy/local/free-port.js";
import { createDynamoClient } from "./client.js";
import { type DynaliteServer, startDynalite } from "./dynalite-server.js";
import { startDynaliteWorker } from "./dynalite-worker.js";

/** dynalite on a worker thread: the embedded platform's storage, stopped and started like the in-thread one. */
describe("dynalite on a worker thread", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), "dynalite-worker-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const started = (server: DynaliteServer) => {
    cleanups.push(() => server.stop());
    return server;
  };
  const tableNames = async (endpoint: string) => {
    const client = createDynamoClient({ endpoint, region: "us-east-1" });
    try {
      return (await client.send(new ListTablesCommand({}))).TableNames;
    } finally {
      client.destroy();
    }
  };

  it("keeps its tables across a stop and a start on the same port and folder, and refuses requests between", async () => {
    const path = folder();
    const port = await freePort();
    const first = started(await startDynaliteWorker({ progress: () => {}, path, port }));
    const client = createDynamoClient({ endpoint: first.endpoint, region: "us-east-1" });
    cleanups.push(() => client.destroy());
    // A client of this process reaches the thread without HTTP (in-process-dynalite.ts).
    expect(client.config.requestHandler).toMatchObject({ metadata: { handlerProtocol: "in-process" } });
    await client.send(
      new CreateTableCommand({
        TableName: "kept",
        AttributeDefinitions: [{ AttributeName: "k", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "k", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await first.stop();
    await first.stop();

    await expect(client.send(new ListTablesCommand({}))).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const second = started(await startDynaliteWorker({ progress: () => {}, path, port }));
    expect(second.endpoint).toBe(first.endpoint);
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(["kept"]);
    await second.stop();
    // The same folder opens on this thread too: the worker released its LevelDB lock.
    const inThread = started(await startDynalite({ progress: () => {}, path, port }));
    expect(await tableNames(inThread.endpoint)).toEqual(["kept"]);
  });

  it("fails to start on a busy port with EADDRINUSE, leaving its folder free for the next start", async () => {
    const path = folder();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const address = blocker.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;

    await expect(startDynaliteWorker({ progress: () => {}, path, port })).rejects.toMatchObject({
      code: "EADDRINUSE",
    });
    const next = started(await startDynaliteWorker({ progress: () => {}, path }));
    expect(await tableNames(next.endpoint)).toEqual([]);
  });
});
