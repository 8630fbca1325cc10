import { randomUUID } from "node:crypto";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { isChatId } from "../../runtime/ids.js";
import { type ClientLogger, MessagingClient } from "./client.js";
import { stateFileFor } from "./client-store.js";
import {
  type Fetch,
  RestClient,
  RestError,
  type Session,
  SessionFile,
  sessionTokens,
} from "./rest-client.js";

/**
 * `npm run chat -- <command>`: the reference client from a terminal. Login is REST (request-otp, the dev-mode
 * OTP endpoint or a prompt, verify-otp); `send` and `tail` go over the WebSocket with the full client (sync,
 * acks, reconnects), keeping their durable state next to the stored login.
 */
const DEFAULT_URL = "http://127.0.0.1:8080";

const COMMON_HELP = `Options:
  --url <http-url>     server base URL (default ${DEFAULT_URL}); the WebSocket is <url>/v1/ws
  --ws-url <ws-url>    WebSocket URL, when it is not <url>/v1/ws
  --state-dir <dir>    where the login and client state live (default $CHAT_STATE_DIR or ~/.messaging-chat)
  --json               one JSON object per line instead of text
  --help               this help`;

const HELP: Record<string, string> = {
  main: `Usage: npm run chat -- <command> [options]

Commands:
  login <phone>                         log in with an OTP (fetched from /api/v1/dev/otp in dev mode, else asked)
  chats                                 list your chats
  create <direct|group> <user-id...>    create a chat (group: --name <name>)
  send <chat-id> <text>                 send a message and wait for its ack
  tail [chat-id]                        print incoming messages live until Ctrl-C

Run \`npm run chat -- <command> --help\` for a command's options.

${COMMON_HELP}`,
  login: `Usage: npm run chat -- login <phone> [--otp <code>] [--device <id>]

Requests an OTP for <phone> (E.164, e.g. +15551234567), takes the code from --otp, the dev-mode endpoint
GET /api/v1/dev/otp, or a prompt, verifies it and stores the tokens in the state directory.

${COMMON_HELP}
  --otp <code>         the 6-digit code, when known
  --device <id>        device id to log in with (default: a new UUIDv4, then kept)`,
  chats: `Usage: npm run chat -- chats

Lists the chats of the logged-in user (GET /api/v1/chats).

${COMMON_HELP}`,
  create: `Usage: npm run chat -- create <direct|group> <user-id...> [--name <name>]

Creates a direct chat with one user, or a group with 1-99 others (the name is required for groups).

${COMMON_HELP}
  --name <name>        group name`,
  send: `Usage: npm run chat -- send <chat-id> <text>

Connects, syncs, sends <text> with a new client_message_id and prints the ack (sequence, message id). If the
process dies before the ack, the next send or tail resends it with the same id.

${COMMON_HELP}`,
  tail: `Usage: npm run chat -- tail [chat-id]

Connects and prints every message that arrives (pushes and syncs), of one chat or of all known chats, in
arrival order, plus connection state changes on stderr. Ctrl-C closes gracefully (pending acks are flushed).

${COMMON_HELP}`,
};

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly fetch?: Fetch;
  /** Ends `tail` (Ctrl-C in a terminal). */
  readonly signal?: AbortSignal;
  /** Asks for the OTP when the dev endpoint does not serve it. */
  readonly prompt?: (question: string) => Promise<string>;
  readonly env?: Record<string, string | undefined>;
}

class UsageError extends Error {}

/** Runs one command; returns the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n\n${HELP.main}`);
    return 2;
  }
  const { command, positionals, values } = parsed;
  if (values.help || command === undefined || command === "help") {
    io.out(HELP[command ?? "main"] ?? HELP.main ?? "");
    return command === undefined && !values.help ? 2 : 0;
  }
  const env = io.env ?? process.env;
  const baseUrl = values.url ?? DEFAULT_URL;
  const stateDir = values["state-dir"] ?? env.CHAT_STATE_DIR ?? join(homedir(), ".messaging-chat");
  const rest = new RestClient(baseUrl, io.fetch ?? fetch);
  const sessions = new SessionFile(join(stateDir, "session.json"));
  const print = (json: unknown, text: string) => io.out(values.json ? JSON.stringify(json) : text);
  try {
    switch (command) {
      case "login":
        return await login(positionals, values, rest, sessions, io, print);
      case "chats": {
        const { data } = await rest.listChats(await freshSession(rest, sessions));
        if (values.json) for (const chat of data) io.out(JSON.stringify(chat));
        else if (data.length === 0) io.out("no chats");
        else for (const chat of data) io.out(chatLine(chat));
        return 0;
      }
      case "create": {
        const [type, ...members] = positionals;
        if ((type !== "direct" && type !== "group") || members.length === 0) {
          throw new UsageError("create needs <direct|group> and at least one user id");
        }
        const { status, data } = await rest.createChat(
          await freshSession(rest, sessions),
          type,
          members,
          values.name,
        );
        print(data, `${status === 201 ? "created" : "exists"} ${chatLine(data)}`);
        return 0;
      }
      case "send": {
        const [chatId, ...words] = positionals;
        if (chatId === undefined || words.length === 0)
          throw new UsageError("send needs <chat-id> and <text>");
        checkChatId(chatId);
        const client = wsClient(values, baseUrl, stateDir, rest, sessions, io, [chatId]);
        try {
          await client.connect();
          const ack = await client.send(chatId, words.join(" "));
          print(ack, `sent #${ack.sequence} ${ack.messageId} (${ack.clientMessageId})`);
        } finally {
          await client.close();
        }
        return 0;
      }
      case "tail":
        // A mistyped id would otherwise be tracked (and synced) in the state file from now on.
        if (positionals[0] !== undefined) checkChatId(positionals[0]);
        return await tail(positionals[0], values, baseUrl, stateDir, rest, sessions, io, print);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${HELP[command] ?? HELP.main}`);
      return 2;
    }
    const message =
      error instanceof RestError
        ? `${error.status} ${error.code}: ${error.message}`
        : String((error as Error).message);
    if (values.json) io.err(JSON.stringify({ error: message }));
    else io.err(`error: ${message}`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      url: { type: "string" },
      "ws-url": { type: "string" },
      "state-dir": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      otp: { type: "string" },
      device: { type: "string" },
      name: { type: "string" },
    },
  });
  const [command, ...rest] = positionals;
  return { command, positionals: rest, values };
}

type Values = ReturnType<typeof parse>["values"];
type Print = (json: unknown, text: string) => void;

async function login(
  positionals: string[],
  values: Values,
  rest: RestClient,
  sessions: SessionFile,
  io: CliIo,
  print: Print,
): Promise<number> {
  const [phone] = positionals;
  if (phone === undefined) throw new UsageError("login needs <phone>");
  const previous = sessions.read();
  const deviceId = values.device ?? previous?.device_id ?? randomUUID();
  await rest.requestOtp(phone);
  let otp = values.otp;
  if (otp === undefined) {
    try {
      otp = await rest.devOtp(phone);
    } catch (error) {
      if (!(error instanceof RestError) || io.prompt === undefined) throw error;
      otp = (await io.prompt(`code sent to ${phone}: `)).trim();
    }
  }
  const session = await rest.verifyOtp(phone, otp, deviceId);
  sessions.write(session);
  print(
    { user_id: session.user_id, device_id: session.device_id, phone_number: session.phone_number },
    `logged in as ${session.user_id} (device ${session.device_id})`,
  );
  return 0;
}

async function freshSession(rest: RestClient, sessions: SessionFile): Promise<Session> {
  const session = sessions.read();
  if (session === undefined) throw new Error("not logged in: run `chat login <phone>` first");
  if (session.access_expires_at_ms - Date.now() > 60_000) return session;
  const refreshed = await rest.refresh(session);
  sessions.write(refreshed);
  return refreshed;
}

function wsClient(
  values: Values,
  baseUrl: string,
  stateDir: string,
  rest: RestClient,
  sessions: SessionFile,
  io: CliIo,
  chats: string[],
): MessagingClient {
  const session = sessions.read();
  if (session === undefined) throw new Error("not logged in: run `chat login <phone>` first");
  const url = values["ws-url"] ?? `${baseUrl.replace(/^http/, "ws").replace(/\/$/, "")}/v1/ws`;
  const logger: ClientLogger = {
    debug: () => {},
    info: () => {},
    warn: (fields, message) => io.err(`warn: ${message} ${JSON.stringify(fields)}`),
    error: (fields, message) => io.err(`error: ${message} ${JSON.stringify(fields)}`),
  };
  return new MessagingClient({
    url,
    tokens: sessionTokens(rest, sessions),
    stateFile: stateFileFor(join(stateDir, "clients"), session.user_id, session.device_id),
    deviceId: session.device_id,
    userId: session.user_id,
    chats,
    logger,
  });
}

function checkChatId(value: string): void {
  if (!isChatId(value))
    throw new UsageError(`"${value}" is not a chat id (chat_ followed by a ULID; see \`chats\`)`);
}

async function tail(
  chatId: string | undefined,
  values: Values,
  baseUrl: string,
  stateDir: string,
  rest: RestClient,
  sessions: SessionFile,
  io: CliIo,
  print: Print,
): Promise<number> {
  // RS-01: with no chat named, every chat the server lists is synced (and so tailed).
  const chats =
    chatId !== undefined
      ? [chatId]
      : (await rest.listChats(await freshSession(rest, sessions))).data.map((chat) => String(chat.chat_id));
  const client = wsClient(values, baseUrl, stateDir, rest, sessions, io, chats);
  client.on("message", (message) => {
    if (chatId !== undefined && message.chat_id !== chatId) return;
    print(message, `[${message.chat_id} #${message.sequence}] ${message.sender_id}: ${message.content}`);
  });
  client.on("state", ({ state, connectivity, reason }) => {
    io.err(values.json ? JSON.stringify({ state, connectivity, reason }) : `-- ${state} (${connectivity})`);
  });
  await client.connect();
  await new Promise<void>((resolve) => {
    if (io.signal === undefined) return;
    if (io.signal.aborted) return resolve();
    io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await client.close();
  return 0;
}

function chatLine(chat: Record<string, unknown>): string {
  const name = chat.name ?? (chat.other_member as { user_id?: string } | undefined)?.user_id ?? "";
  return `${chat.chat_id} ${chat.type} ${name} (${chat.member_count} members)`;
}

async function main(): Promise<void> {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  process.once("SIGTERM", () => controller.abort());
  const readline = process.stdin.isTTY
    ? createInterface({ input: process.stdin, output: process.stderr })
    : undefined;
  const code = await runCli(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    signal: controller.signal,
    ...(readline === undefined ? {} : { prompt: (question: string) => readline.question(question) }),
  });
  readline?.close();
  process.exitCode = code;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
