import { AppError } from "../errors.js";

/**
 * The opaque page cursor of the chat store, shared by its adapters: base64url of `{"pk","sk","v":1}`
 * (spec/rest-data-auth-chats.md §1) naming the last item of the previous page. Paging by the last key, not
 * by an offset, survives inserts and never repeats or skips an item. A cursor is tied to its partition: one
 * minted for another user is refused.
 */
interface CursorBody {
  readonly pk: string;
  readonly sk: string;
  readonly v: 1;
}

export function encodePageCursor(partitionKey: string, lastSortKey: string): string {
  const body: CursorBody = { pk: partitionKey, sk: lastSortKey, v: 1 };
  return Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
}

/** The sort key to continue after; an INVALID_MESSAGE (a client's 400) for anything we did not mint. */
export function decodePageCursor(cursor: string, partitionKey: string): string {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    body = undefined;
  }
  if (
    typeof body !== "object" ||
    body === null ||
    !("pk" in body && "sk" in body && "v" in body) ||
    body.v !== 1 ||
    body.pk !== partitionKey ||
    typeof body.sk !== "string" ||
    body.sk === ""
  ) {
    throw new AppError("INVALID_MESSAGE", "invalid cursor", { details: { field: "cursor" } });
  }
  return body.sk;
}
