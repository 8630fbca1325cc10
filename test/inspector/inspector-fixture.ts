import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningPlatform, startPlatform } from "../../app/platform.js";
import { SystemClock } from "../../runtime/clock.js";
import { loadConfig } from "../../runtime/config.js";
import { createLogger } from "../../runtime/logger.js";
import { RestClient, type Session } from "../harness/rest-client.js";
import { uniqueName } from "../support/engines.js";
import { WsPeer } from "../support/ws-peer.js";

/**
 * The embedded platform on the shared engines (DynamoDB and Redis; the event log in-process, as embedded
 * runs it), with two people logged in over REST, one group chat and one WebSocket connection each.
 */
export interface InspectorWorld {
  readonly platform: RunningPlatform;
  readonly rest: RestClient;
  readonly alice: Person;
  readonly bob: Person;
  readonly chatId: string;
  stop(): Promise<void>;
}

export interface Person {
  readonly session: Session;
  readonly peer: WsPeer;
  readonly connectionId: string;
}

/** A phone number no other run uses (E.164, +1 555 …). */
const phone = (): string => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

export async function startInspectorWorld(engines: {
  dynamodb: string;
  redis: string;
}): Promise<InspectorWorld> {
  const dataDir = mkdtempSync(join(tmpdir(), "inspector-"));
  const platform = await startPlatform(
    loadConfig({
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        TABLE_PREFIX: uniqueName("insp_"),
        NODE_ID: uniqueName("insp-"),
        DATA_DIR: dataDir,
        DYNAMODB_ENDPOINT: engines.dynamodb,
        REDIS_URL: engines.redis,
      },
    }),
    createLogger({ level: "silent" }),
    new SystemClock(),
  );
  const rest = new RestClient(platform.baseUrl);
  const people: Person[] = [];
  try {
    const sessions: Session[] = [];
    for (const name of ["alice", "bob"]) {
      const number = phone();
      await rest.requestOtp(number);
      sessions.push(await rest.verifyOtp(number, await rest.devOtp(number), uniqueName(`${name}-`)));
    }
    const [aliceSession, bobSession] = sessions as [Session, Session];
    const { data: chat } = await rest.createChat(aliceSession, "group", [bobSession.user_id], "inspected");
    const chatId = String(chat.chat_id);
    for (const session of sessions) {
      const peer = await WsPeer.connect(platform.baseUrl, session.access_token, session.device_id);
      const established = await peer.next((frame) => frame.type === "connection_established");
      people.push({ session, peer, connectionId: String(established.payload.connection_id) });
    }
    const [alice, bob] = people as [Person, Person];
    return {
      platform,
      rest,
      alice,
      bob,
      chatId,
      stop: async () => {
        for (const person of people) person.peer.socket.terminate();
        await platform.stop(0);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const person of people) person.peer.socket.terminate();
    await platform.stop(0);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
