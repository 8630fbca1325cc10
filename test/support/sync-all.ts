import { randomUUID } from "node:crypto";
import type { TestClient } from "./gateway-harness.js";

/** Syncs a whole chat over the WebSocket, page by page (500, the maximum), as a reconnecting client does. */
export async function syncAll(client: TestClient, chatId: string, after = 0): Promise<number[]> {
  const sequences: number[] = [];
  let cursor = after;
  for (let page = 0; page < 1_000; page++) {
    const requestId = randomUUID();
    client.send({
      type: "sync_request",
      request_id: requestId,
      payload: { chat_id: chatId, last_acked_sequence: cursor, limit: 500 },
    });
    const response = await client.reply(requestId);
    if (response.type !== "sync_response")
      throw new Error(`sync failed: ${JSON.stringify(response.payload)}`);
    const messages = response.payload.messages as Array<{ sequence: number }>;
    sequences.push(...messages.map((message) => message.sequence));
    if (response.payload.has_more !== true) return sequences;
    cursor = Number(response.payload.next_sequence) - 1;
  }
  throw new Error("sync did not end");
}

/** Runs `work` over `items`, `inFlight` at a time. */
export async function eachLimited<T>(
  items: readonly T[],
  inFlight: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let index = next++; index < items.length; index = next++) await work(items[index] as T);
    }),
  );
}
