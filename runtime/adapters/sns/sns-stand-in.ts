import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for the SNS API, for tests: the `Publish` action as the AWS SDK sends it (AWS Query
 * protocol: a form-encoded POST with `Action=Publish&Version=2010-03-31&PhoneNumber=...&Message=...`), answered
 * with SNS's XML `PublishResponse`, or the `ErrorResponse` it is told to give next, or no answer at all.
 */
export interface SnsPublish {
  readonly contentType: string | undefined;
  /** Every form field as sent. */
  readonly form: Readonly<Record<string, string>>;
  readonly phoneNumber: string | undefined;
  readonly message: string | undefined;
}

export type SnsAnswer =
  | { readonly kind: "ok" }
  | { readonly kind: "error"; readonly status: number; readonly code: string; readonly message?: string }
  /** Accepts the request and never answers (a provider that hangs). */
  | { readonly kind: "hang" };

export interface SnsStandIn {
  readonly endpoint: string;
  /** Every Publish received, oldest first (failed ones included). */
  readonly publishes: SnsPublish[];
  /** Answers the following requests with `answer` until told otherwise. */
  answerWith(answer: SnsAnswer): void;
  close(): Promise<void>;
}

const XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/";

export async function startSnsStandIn(): Promise<SnsStandIn> {
  const publishes: SnsPublish[] = [];
  const hanging = new Set<ServerResponse>();
  let answer: SnsAnswer = { kind: "ok" };
  const server: Server = createServer((request, response) => {
    void readBody(request).then((body) => {
      const form = Object.fromEntries(new URLSearchParams(body));
      if (form.Action === "Publish") {
        publishes.push({
          contentType: request.headers["content-type"],
          form,
          phoneNumber: form.PhoneNumber,
          message: form.Message,
        });
      }
      const requestId = randomUUID();
      if (form.Action !== "Publish") {
        reply(
          response,
          400,
          errorXml("Sender", "InvalidAction", `unsupported action ${form.Action}`, requestId),
        );
        return;
      }
      switch (answer.kind) {
        case "ok":
          reply(
            response,
            200,
            `<PublishResponse xmlns="${XMLNS}"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
          );
          return;
        case "error":
          reply(
            response,
            answer.status,
            errorXml(
              answer.status >= 500 ? "Receiver" : "Sender",
              answer.code,
              answer.message ?? answer.code,
              requestId,
            ),
          );
          return;
        case "hang":
          hanging.add(response);
          response.once("close", () => hanging.delete(response));
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    publishes,
    answerWith: (next) => {
      answer = next;
    },
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.once("error", reject);
  });
}

function errorXml(type: string, code: string, message: string, requestId: string): string {
  return `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

function reply(response: ServerResponse, status: number, xml: string): void {
  response.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": randomUUID() });
  response.end(xml);
}
