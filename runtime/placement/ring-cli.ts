import { parseArgs } from "node:util";
import { DEFAULT_INTERNAL_PORT } from "../config.js";
import { isEntryPoint } from "../entry-point.js";
import { DEV_ADMIN_TOKEN } from "./placement.js";

/**
 * `npm run ring -- <command>`: the operator's view and control of the placement ring, as a client of the
 * admin REST API of any running node (embedded or any role of a cluster).
 */
const HELP = `Usage: npm run ring -- <command> [options]

Commands:
  show                         the ring: members, weights, states, liveness, shares, handoff progress
  owner <chat-id>              the ingest node that owns a chat now
  plan <change...>             preview a change: chats (and active actors) it would move; changes nothing
  add <node-id> [--weight N]   add an ingest node as an active member (default weight 100)
  remove <node-id>             remove a member (drain it first to hand its chats off gracefully)
  drain <node-id>              keep the member but move every chat off it
  activate <node-id>           make a drained member own chats again
  weight <node-id> <N>         change a member's weight (relative share of chats)

  A plan takes the change as its arguments, e.g. \`plan add ingest-4 --weight 200\` or \`plan drain ingest-2\`.
  Changes print the handoff's progress until every live ingest node has applied it (or --timeout).
  Refused: unknown nodes, adding a member twice, any change that leaves no active member.

Options:
  --url <url>        a node's internal HTTP address, INTERNAL_PORT (default $RING_ADMIN_URL or
                     http://127.0.0.1:${DEFAULT_INTERNAL_PORT}); the public port does not serve the operator API
  --token <token>    the admin token (default $ADMIN_TOKEN, else the dev-mode token ${DEV_ADMIN_TOKEN})
  --weight <N>       weight for add
  --json             print JSON instead of tables
  --no-wait          do not follow the handoff after a change
  --timeout <sec>    how long to follow a handoff (default 120)
  --help             this text`;

interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly sleep: (ms: number) => Promise<void>;
}

type Json = Record<string, unknown>;

class CliError extends Error {}

export async function runRingCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    io.out(HELP);
    return values.help ? 0 : 2;
  }
  const url = (values.url ?? io.env.RING_ADMIN_URL ?? `http://127.0.0.1:${DEFAULT_INTERNAL_PORT}`).replace(
    /\/$/,
    "",
  );
  const token = values.token ?? io.env.ADMIN_TOKEN ?? DEV_ADMIN_TOKEN;
  const api = async (method: string, path: string, body?: Json): Promise<Json> => {
    let response: Response;
    try {
      response = await fetch(`${url}/admin/ring${path}`, {
        method,
        headers: {
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new CliError(`cannot reach ${url}: ${(error as Error).message}`);
    }
    const json = (await response.json().catch(() => ({}))) as Json;
    if (!response.ok) {
      const error = (json.error ?? {}) as Json;
      throw new CliError(
        `${String(error.code ?? response.status)}: ${String(error.message ?? response.statusText)}`,
      );
    }
    return (json.data ?? {}) as Json;
  };

  try {
    const [command, ...rest] = positionals;
    if (command === "show") {
      const status = await api("GET", "");
      io.out(values.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      return 0;
    }
    if (command === "owner") {
      const [chatId] = rest;
      if (chatId === undefined) throw new CliError("owner needs a chat id");
      const owner = await api("GET", `/owner?chat_id=${encodeURIComponent(chatId)}`);
      io.out(
        values.json
          ? JSON.stringify(owner, null, 2)
          : `${chatId} is owned by ${String(owner.owner ?? "no live node")} (ring version ${String(owner.version)})`,
      );
      return 0;
    }
    if (command === "plan") {
      const plan = await api("POST", "/plan", changeOf(rest, values.weight));
      io.out(values.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
      return 0;
    }
    if (command === undefined || !["add", "remove", "drain", "activate", "weight"].includes(command)) {
      throw new CliError(`unknown command ${command ?? ""} (see --help)`);
    }
    const result = await api("POST", "/changes", changeOf([command, ...rest], values.weight));
    const version = Number(result.version);
    if (!values.json) io.out(`ring version ${version}: ${command} ${rest.join(" ")} applied`);
    let status = (result.status ?? {}) as Json;
    if (!values["no-wait"]) {
      const deadline = Date.now() + Number(values.timeout ?? "120") * 1000;
      while (status.settled !== true) {
        if (!values.json) io.out(progressLine(status, version));
        if (Date.now() > deadline) {
          io.err(`the handoff has not settled after ${values.timeout ?? "120"} s; \`ring show\` follows it`);
          if (values.json) io.out(JSON.stringify({ ...result, status }, null, 2));
          return 1;
        }
        await io.sleep(500);
        status = await api("GET", "");
      }
      if (!values.json) io.out(`handoff complete: every live ingest node applied version ${version}`);
    }
    io.out(values.json ? JSON.stringify({ ...result, status }, null, 2) : formatStatus(status));
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`ring: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      weight: { type: "string" },
      json: { type: "boolean" },
      "no-wait": { type: "boolean" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

function changeOf(args: readonly string[], weightFlag: string | undefined): Json {
  const [kind, nodeId, weightArg] = args;
  if (kind === undefined || nodeId === undefined)
    throw new CliError("a change needs a command and a node id");
  const weightText = kind === "weight" ? weightArg : weightFlag;
  if (kind === "weight" && weightText === undefined)
    throw new CliError("weight needs a value: weight <node-id> <N>");
  const weight = weightText === undefined ? undefined : Number(weightText);
  if (weight !== undefined && !Number.isFinite(weight)) throw new CliError(`not a number: ${weightText}`);
  return { kind, node_id: nodeId, ...(weight === undefined ? {} : { weight }) };
}

const members = (status: Json): Json[] => (Array.isArray(status.members) ? (status.members as Json[]) : []);

function progressLine(status: Json, version: number): string {
  const live = members(status).filter((m) => m.live === true);
  const applied = live.filter((m) => Number(m.applied_version ?? 0) >= version).length;
  const pending = live.reduce((sum, m) => sum + Number(m.handoffs_pending ?? 0), 0);
  return `  handoff: ${applied}/${live.length} live members on version ${version}, ${pending} actors still draining`;
}

function table(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function formatStatus(status: Json): string {
  const rows = [["NODE", "STATE", "WEIGHT", "LIVE", "SHARE", "APPLIED", "ACTORS", "HANDOFFS", "ADDRESS"]];
  for (const m of members(status)) {
    rows.push([
      String(m.node_id),
      String(m.state),
      String(m.weight),
      m.live === true ? "yes" : "NO",
      `${(Number(m.share) * 100).toFixed(1)}%`,
      m.applied_version === null ? "-" : `v${String(m.applied_version)}`,
      m.active_actors === null ? "-" : String(m.active_actors),
      m.handoffs_pending === null ? "-" : String(m.handoffs_pending),
      m.address === null ? "-" : String(m.address),
    ]);
  }
  const unassigned = Array.isArray(status.unassigned) ? (status.unassigned as Json[]) : [];
  const lines = [
    `ring version ${String(status.version)} (${status.settled === true ? "settled" : "handoff in progress"})`,
    members(status).length === 0 ? "no members" : table(rows),
  ];
  if (unassigned.length > 0) {
    lines.push(
      `live but not members: ${unassigned.map((n) => `${String(n.node_id)} (${String(n.address)})`).join(", ")}`,
    );
  }
  return lines.join("\n");
}

function formatPlan(plan: Json): string {
  const change = (plan.change ?? {}) as Json;
  const moves = Array.isArray(plan.moves) ? (plan.moves as Json[]) : [];
  const chats = Number(plan.chats);
  const moved = Number(plan.chats_moved);
  const lines = [
    `plan: ${String(change.kind)} ${String(change.node_id)}${change.weight === undefined ? "" : ` weight ${String(change.weight)}`} (from ring version ${String(plan.from_version)})`,
    `chats moved: ${moved} of ${chats}${plan.sampled === true ? " (first chats of the table only)" : ""} = ${chats === 0 ? "0.0" : ((moved / chats) * 100).toFixed(1)}%`,
    `active actors handed off (estimate): ${String(plan.active_actors_moved_estimate)}`,
  ];
  if (moves.length > 0) {
    lines.push(
      table([
        ["NODE", "GAINS", "LOSES"],
        ...moves.map((m) => [String(m.node_id), String(m.gained), String(m.lost)]),
      ]),
    );
  }
  return lines.join("\n");
}

if (isEntryPoint(import.meta.url)) {
  const code = await runRingCli(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env: process.env,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
  process.exitCode = code;
}
