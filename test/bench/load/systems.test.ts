import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { UserId } from "../../../runtime/ids.js";
import { engineEndpoint } from "../../support/engines.js";
import { ids, type PlatformUnderTest, startEmbedded } from "./systems.js";

/**
 * The bench's platform under test must admit its own load clients: a target's token names a session that
 * exists, as the gateway's handshake requires, so a scenario measures the platform and not refused upgrades.
 */
const dynamodb = engineEndpoint("dynamodb");

/** The first frame the gateway sends on a connection opened with these headers, or the refusal status. */
function firstFrame(url: string, headers: Readonly<Record<string, string>>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { ...headers } });
    socket.once("message", (data) => {
      resolve(JSON.parse(data.toString()).type as string);
      socket.close();
    });
    socket.once("unexpected-response", (_request, response) => {
      resolve(`refused ${response.statusCode}`);
      socket.terminate();
    });
    socket.once("error", reject);
  });
}

describe.skipIf(!dynamodb)("the bench's embedded platform", () => {
  let platform: PlatformUnderTest;

  beforeAll(async () => {
    platform = await startEmbedded({ DYNAMODB_ENDPOINT: dynamodb });
  }, 60_000);
  afterAll(() => platform?.stop(), 30_000);

  it("admits the load clients it mints targets for", async () => {
    const users = [ids.user(), ids.user()] as UserId[];
    const targets = await platform.targets(users);
    const frames = await Promise.all(targets.map((target) => firstFrame(target.url, target.headers ?? {})));
    expect(frames).toEqual(["connection_established", "connection_established"]);
  });
});
