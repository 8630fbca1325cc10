import { AppError } from "../../runtime/errors.js";
import type { ChatId } from "../../runtime/ids.js";

/**
 * The opaque history cursor: base64url of `{"pk": chat_id, "sk": "<sequence>", "v": 1}` (spec §1), plus the
 * page direction and the far bound of a range query, so a ranged walk keeps its range across pages. It
 * names the last sequence served: the next page starts strictly beyond it, so inserts never cause a repeat
 * or a skip.
 */
export interface MessageCursor {
  readonly sequence: number;
  readonly direction: "forward" | "backward";
  /** The exclusive far end of a range walk (`before_sequence` going forward, `after_sequence` backward). */
  readonly bound?: number;
}

export function encodeMessageCursor(chatId: ChatId, cursor: MessageCursor): string {
  const body = {
    pk: chatId,
    sk: String(cursor.sequence),
    v: 1,
    d: cursor.direction === "forward" ? "f" : "b",
    ...(cursor.bound === undefined ? {} : { b: cursor.bound }),
  };
  return Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
}

const invalidCursor = () =>
  new AppError("VALIDATION_ERROR", "invalid cursor", {
    details: {
      field_errors: [{ field: "cursor", code: "INVALID_VALUE", message: "not a cursor of this chat" }],
    },
  });

export function decodeMessageCursor(chatId: ChatId, text: string): MessageCursor {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    throw invalidCursor();
  }
  if (typeof body !== "object" || body === null || body.v !== 1 || body.pk !== chatId) throw invalidCursor();
  const sequence = Number(body.sk);
  if (typeof body.sk !== "string" || !Number.isSafeInteger(sequence) || sequence < 0) throw invalidCursor();
  if (body.d !== "f" && body.d !== "b") throw invalidCursor();
  const bound = body.b;
  if (bound !== undefined && (typeof bound !== "number" || !Number.isSafeInteger(bound)))
    throw invalidCursor();
  return {
    sequence,
    direction: body.d === "f" ? "forward" : "backward",
    ...(bound === undefined ? {} : { bound }),
  };
}
