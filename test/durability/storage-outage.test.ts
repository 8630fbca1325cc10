import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../deploy/local/free-port.js";
import { type DynaliteServer, startDynalite } from "../../runtime/adapters/dynamodb/dynalite-server.js";
import { isAppError } from "../../runtime/errors.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import { type IngestFixture, ingestFixture } from "../support/ingest-fixture.js";

const unavailable = (error: unknown) => isAppError(error) && error.code === "SERVICE_UNAVAILABLE";

/**
 * DynamoDB down for a while: a dedicated dynalite on disk, stopped and started again on the same port and
 * files. Sends fail with SERVICE_UNAVAILABLE (never a false ack), the process keeps serving, and once the
 * storage is back the chat continues where it was, with every acknowledged message kept (D1).
 */
describe("the durability plane while DynamoDB is down", () => {
  let dataDir: string;
  let port: number;
  let storage: DynaliteServer | undefined;
  let fixture: IngestFixture;

  const startStorage = async () => {
    storage = await startDynalite({ progress: () => {}, path: dataDir, port });
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "storage-outage-"));
    port = await freePort();
    await startStorage();
    fixture = await ingestFixture({ dynamodb: `http://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    if (storage === undefined) await startStorage();
    await fixture?.cleanup();
    await storage?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses sends with SERVICE_UNAVAILABLE while it is down, and continues the sequence once it is back", async () => {
    const ingest = fixture.runtime();
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId: ChatId = await fixture.chatWith([alice, bob]);
    const send = (sender: UserId, clientMessageId: string = randomUUID()) =>
      ingest.persist({
        chatId,
        senderId: sender,
        clientMessageId,
        content: "hello",
        contentType: "text/plain",
      });
    try {
      expect((await send(alice)).sequence).toBe(1);
      expect((await send(bob)).sequence).toBe(2);

      await storage?.stop();
      storage = undefined;
      const during = "4f0c8a4e-1b7e-4a51-9a0e-0d6f3b0e2c11";
      await expect(send(alice, during)).rejects.toSatisfy(unavailable);
      // The actor was discarded; the next call tries to activate it again and fails the same way.
      await expect(send(bob)).rejects.toSatisfy(unavailable);
      await expect(ingest.sync({ chatId, userId: bob, afterSequence: 0 })).rejects.toSatisfy(unavailable);

      await startStorage();
      // The send refused during the outage is retried with its client_message_id: stored once, next in line.
      const retried = await send(alice, during);
      expect(retried).toMatchObject({ sequence: 3 });
      expect(await send(alice, during)).toEqual({ ...retried, deduplicated: true });
      const page = await ingest.sync({ chatId, userId: bob, afterSequence: 0 });
      expect(page.messages.map((message) => message.sequence)).toEqual([1, 2, 3]);
    } finally {
      if (storage === undefined) await startStorage();
      await ingest.shutdown();
    }
  });
});
