import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type AsyncAPIDocumentInterface, Parser } from "@asyncapi/parser";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type ClientFrameType, parseFrame } from "../../gateway/frames.js";
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits } from "../../gateway/limits.js";
import { CLOSING_REASONS, type ServerFrameType } from "../../gateway/server-frames.js";
import { PROTOCOL_ERROR_CODES } from "../../runtime/errors.js";
import { MAX_CONTENT_BYTES } from "../../runtime/protocol-limits.js";

/**
 * docs/api/asyncapi.yaml against the gateway: the frames it parses and builds, their limits, error codes and
 * closing reasons. The frame lists below are typed by the gateway's own unions, so a frame added to or removed
 * from `ClientFrame` or `ServerFrame` fails the type check here until the document follows.
 */
const CLIENT_FRAMES = {
  send_message: true,
  ack: true,
  sync_request: true,
  heartbeat: true,
  typing_start: true,
  typing_stop: true,
} as const satisfies Record<ClientFrameType, true>;

const SERVER_FRAMES = {
  connection_established: true,
  send_message_ack: true,
  message: true,
  sync_response: true,
  heartbeat_ack: true,
  error: true,
  connection_closing: true,
  typing_indicator: true,
} as const satisfies Record<ServerFrameType, true>;

const FILE = join(import.meta.dirname, "..", "..", "docs", "api", "asyncapi.yaml");

interface RawDocument {
  info: { "x-limits": Record<string, number> };
  operations: Record<string, { "x-limits"?: Record<string, number>; "x-error-codes"?: string[] }>;
  components: {
    schemas: {
      ErrorCode: { enum: string[] };
      ClosingReason: { enum: string[]; "x-close-codes": Record<string, number> };
    };
    messages: Record<string, { "x-direction": "client" | "server" }>;
  };
}

describe("docs/api/asyncapi.yaml", () => {
  let document: AsyncAPIDocumentInterface;
  let raw: RawDocument;
  beforeAll(async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(readFileSync(FILE, "utf8"));
    expect(diagnostics.map((d) => `${d.code} at ${d.path.join(".")}: ${d.message}`)).toEqual([]);
    expect(parsed).toBeDefined();
    document = parsed as AsyncAPIDocumentInterface;
    raw = document.meta().asyncapi.parsed as unknown as RawDocument;
  });

  it("is a valid AsyncAPI 3 document", () => {
    expect(document.version()).toMatch(/^3\./);
    expect(
      document
        .channels()
        .all()
        .map((channel) => channel.address()),
    ).toEqual(["/v1/ws"]);
  });

  it("lists exactly the frames the gateway parses and builds, each in its direction", () => {
    const byDirection = (direction: "client" | "server") =>
      Object.entries(raw.components.messages)
        .filter(([, message]) => message["x-direction"] === direction)
        .map(([name]) => name)
        .sort();
    expect(byDirection("client")).toEqual(Object.keys(CLIENT_FRAMES).sort());
    expect(byDirection("server")).toEqual(Object.keys(SERVER_FRAMES).sort());
    const onChannel = document
      .allMessages()
      .all()
      .map((message) => message.id());
    expect(onChannel.sort()).toEqual([...Object.keys(CLIENT_FRAMES), ...Object.keys(SERVER_FRAMES)].sort());
  });

  it("every example matches its message's schema, and every client example is a frame the gateway accepts", () => {
    for (const message of document.allMessages().all()) {
      const name = message.id();
      const schema = z.fromJSONSchema(message.payload()?.json() as z.core.JSONSchema.JSONSchema);
      const examples = message.examples().all();
      expect(examples.length, name).toBeGreaterThan(0);
      for (const example of examples) {
        const frame = example.payload();
        const result = schema.safeParse(frame);
        expect(result.error?.issues ?? [], `${name} example`).toEqual([]);
        expect((frame as { type?: string }).type, name).toBe(name);
        if (raw.components.messages[name]?.["x-direction"] !== "client") continue;
        const parsed = parseFrame(JSON.stringify(frame), false, DEFAULT_GATEWAY_LIMITS);
        expect(parsed, name).toMatchObject({ kind: "frame", frame: { type: name } });
      }
    }
  });

  it("a send_message over the documented content limit is refused by the gateway as documented", () => {
    const limits = raw.info["x-limits"];
    expect(limits.maxContentBytes).toBe(MAX_CONTENT_BYTES);
    const frame = (content: string) =>
      JSON.stringify({
        type: "send_message",
        request_id: "r-1",
        payload: { client_message_id: "c-1", chat_id: "chat_01HQX3M6Z8V2K9W4T7R5N1B0CE", content },
      });
    // Bytes, not characters: "é" is two.
    expect(parseFrame(frame("é".repeat(2048)), false, DEFAULT_GATEWAY_LIMITS).kind).toBe("frame");
    const refused = parseFrame(frame("é".repeat(2049)), false, DEFAULT_GATEWAY_LIMITS);
    expect(refused).toMatchObject({ kind: "invalid", error: { code: "MESSAGE_TOO_LARGE" } });
  });

  it("states the gateway's limits with their default values", () => {
    const stated = [raw.info["x-limits"], ...Object.values(raw.operations).map((op) => op["x-limits"] ?? {})];
    for (const limits of stated) {
      for (const [name, value] of Object.entries(limits)) {
        expect(Object.hasOwn(DEFAULT_GATEWAY_LIMITS, name), `${name} is a gateway limit`).toBe(true);
        expect(value, name).toBe(DEFAULT_GATEWAY_LIMITS[name as keyof GatewayLimits]);
      }
    }
  });

  it("names the protocol's error codes and the gateway's closing reasons with their close codes", () => {
    expect(raw.components.schemas.ErrorCode.enum).toEqual([...PROTOCOL_ERROR_CODES]);
    for (const operation of Object.values(raw.operations)) {
      for (const code of operation["x-error-codes"] ?? []) expect(PROTOCOL_ERROR_CODES).toContain(code);
    }
    const reasons = raw.components.schemas.ClosingReason;
    expect(reasons.enum).toEqual(Object.keys(CLOSING_REASONS));
    expect(reasons["x-close-codes"]).toEqual(
      Object.fromEntries(Object.entries(CLOSING_REASONS).map(([reason, { code }]) => [reason, code])),
    );
  });
});
