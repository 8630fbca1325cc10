import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { GENERATED_DIR } from "./definitions.js";
import { generateToTemp } from "./generate.js";
import type { PersistMessageRequest__Output } from "./generated/messaging/v1/PersistMessageRequest.js";
import type { PersistMessageResponse__Output } from "./generated/messaging/v1/PersistMessageResponse.js";
import { messagingProto } from "./load.js";

const filesOf = (dir: string): Map<string, string> =>
  new Map(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => {
        const path = join(entry.parentPath, entry.name);
        return [relative(dir, path), readFileSync(path, "utf8")] as const;
      }),
  );

describe("proto/messaging.v1", () => {
  const fresh = generateToTemp();
  afterAll(() => rmSync(fresh, { recursive: true, force: true }));

  it("committed TypeScript types match the .proto files (run `npm run proto:gen` when this fails)", () => {
    const committed = filesOf(GENERATED_DIR);
    const regenerated = filesOf(fresh);
    expect([...committed.keys()].sort()).toEqual([...regenerated.keys()].sort());
    for (const [path, text] of regenerated) expect(committed.get(path), path).toBe(text);
  });

  it("serves IngestService.PersistMessage over gRPC with snake_case fields and numeric 64-bit values", async () => {
    const proto = messagingProto().messaging.v1;
    const server = new grpc.Server();
    server.addService(proto.IngestService.service, {
      PersistMessage: (
        call: grpc.ServerUnaryCall<PersistMessageRequest__Output, PersistMessageResponse__Output>,
        callback: grpc.sendUnaryData<PersistMessageResponse__Output>,
      ) =>
        callback(null, {
          message_id: `msg_for_${call.request.client_message_id}`,
          sequence: 2 ** 53 - 1,
          created_at: 1_767_225_600_000,
          deduplicated: call.request.content === "again",
        }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const client = new proto.IngestService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<PersistMessageResponse__Output | undefined>((resolve, reject) =>
        client.PersistMessage(
          { chat_id: "chat_1", sender_id: "user_1", client_message_id: "c-1", content: "again" },
          (error, response) => (error ? reject(error) : resolve(response)),
        ),
      );
      expect(reply).toEqual({
        message_id: "msg_for_c-1",
        sequence: 2 ** 53 - 1,
        created_at: 1_767_225_600_000,
        deduplicated: true,
      });
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
