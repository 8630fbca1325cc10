import WebSocket from "ws";
import type { Answer, Command, Envelope, LoadPlan, RecordMode, StepResult, Target } from "./protocol.js";
import { quantile, round, sleep, summarize, wallNow } from "./stats.js";
import { WIRES, type Wire } from "./wire.js";

/**
 * The client side of the load scenarios, in a process of its own (forked by ./clients.ts) so the server
 * process measures only the server. It holds groups of WebSocket clients and runs the open-loop load
 * generator: sends leave on a fixed timetable and latency counts from the scheduled time, so a server that
 * falls behind cannot hide its queueing by slowing the generator down (no coordinated omission).
 */

interface Group {
  readonly sockets: WebSocket[];
  readonly record: RecordMode;
  readonly wire: Wire;
  heartbeat?: NodeJS.Timeout;
}

const groups = new Map<string, Group>();
let received = 0;
let expected: { total: number; resolve: () => void } | undefined;
/** `chat_id#sequence` -> receive times (wall clock), for the keyed groups. */
const keyed = new Map<string, number[]>();
let firstReceiveAt = Number.POSITIVE_INFINITY;
let lastReceiveAt = 0;

/** The step being measured by the stamped receivers. */
let step:
  | {
      readonly from: number;
      readonly windowStart: number;
      readonly windowEnd: number;
      latencies: number[];
      inWindow: number;
      /** Receivers reached, by the message's index in the step. */
      readonly receipts: Uint16Array;
    }
  | undefined;
let acks = 0;
let deliveryAcksSent = 0;
const errors: Record<string, number> = {};

/**
 * A receiver's cumulative acks: the first push after a flush arms a timer, and the flush acks the highest
 * sequence seen in that chat. Pushes of a chat reach one connection in order, so the highest seen is the
 * cumulative point; a push that never arrives is counted missing by the step anyway.
 */
function ackerFor(socket: WebSocket, wire: Wire, intervalMs: number) {
  const chats = new Map<string, { top: number; armed: boolean }>();
  return (chatId: string, sequence: number) => {
    let chat = chats.get(chatId);
    if (chat === undefined) {
      chat = { top: 0, armed: false };
      chats.set(chatId, chat);
    }
    if (sequence > chat.top) chat.top = sequence;
    if (chat.armed) return;
    chat.armed = true;
    const armed = chat;
    setTimeout(() => {
      armed.armed = false;
      const frame = wire.ack(chatId, armed.top);
      if (frame === undefined || socket.readyState !== WebSocket.OPEN) return;
      socket.send(frame);
      deliveryAcksSent++;
    }, intervalMs);
  };
}

function onFrame(
  group: Group,
  socket: WebSocket,
  ack: ((chatId: string, sequence: number) => void) | undefined,
  data: WebSocket.RawData,
): void {
  const now = wallNow();
  received++;
  if (expected !== undefined && received >= expected.total) expected.resolve();
  if (group.record === "count") return;
  for (const event of group.wire.parse(data.toString())) {
    switch (event.kind) {
      case "send_ack":
        acks++;
        break;
      case "error":
        errors[event.code] = (errors[event.code] ?? 0) + 1;
        break;
      case "ping":
        socket.send(event.reply);
        break;
      case "other":
        break;
      case "message":
        ack?.(event.chatId, event.sequence);
        if (group.record === "keyed") recordKeyed(`${event.chatId}#${event.sequence}`, now);
        else recordStamped(event.content, now);
        break;
    }
  }
}

function recordKeyed(key: string, now: number): void {
  const times = keyed.get(key);
  if (times === undefined) keyed.set(key, [now]);
  else times.push(now);
  if (now < firstReceiveAt) firstReceiveAt = now;
  if (now > lastReceiveAt) lastReceiveAt = now;
}

/** Content starts with `<scheduled send time>|<index in the step>|` (see `load`). */
function recordStamped(content: string, now: number): void {
  const bar = content.indexOf("|");
  const scheduled = Number(content.slice(0, bar));
  const current = step;
  if (current === undefined || !(scheduled >= current.from)) return;
  current.latencies.push(now - scheduled);
  if (now >= current.windowStart && now <= current.windowEnd) current.inWindow++;
  const index = Number(content.slice(bar + 1, content.indexOf("|", bar + 1)));
  if (Number.isInteger(index) && index >= 0 && index < current.receipts.length) {
    current.receipts[index] = (current.receipts[index] ?? 0) + 1;
  }
}

async function connect(command: Extract<Command, { cmd: "connect" }>): Promise<Answer> {
  const wire = WIRES[command.wire ?? "platform"];
  const group: Group = groups.get(command.group) ?? { sockets: [], record: command.record, wire };
  groups.set(command.group, group);
  const started = performance.now();
  let next = 0;
  let failed = 0;
  const opened: WebSocket[] = new Array(command.targets.length);
  await Promise.all(
    Array.from({ length: Math.max(1, command.concurrency) }, async () => {
      for (let index = next++; index < command.targets.length; index = next++) {
        const target = command.targets[index] as Target;
        const socket = new WebSocket(target.url, {
          headers: { ...target.headers },
          perMessageDeflate: false,
          // An all-zero mask: ws then skips masking, which costs the generator CPU and proves nothing on loopback.
          generateMask: (mask) => mask.fill(0),
        });
        try {
          await new Promise<void>((resolve, reject) => {
            socket.once("error", reject);
            socket.once("close", (code) => reject(new Error(`closed ${code}`)));
            const hello = target.hello;
            if (hello !== undefined) socket.once("open", () => socket.send(hello));
            if (command.waitFirstFrame) {
              socket.once("message", (data) =>
                wire.accepted(data.toString()) ? resolve() : reject(new Error(`refused: ${data}`)),
              );
            } else socket.once("open", () => resolve());
          });
        } catch {
          failed++;
          socket.terminate();
          continue;
        }
        socket.removeAllListeners("close");
        socket.removeAllListeners("error");
        socket.on("error", () => {});
        const ack =
          command.ackIntervalMs === undefined ? undefined : ackerFor(socket, wire, command.ackIntervalMs);
        socket.on("message", (data) => onFrame(group, socket, ack, data));
        opened[index] = socket;
      }
    }),
  );
  for (const socket of opened) if (socket !== undefined) group.sockets.push(socket);
  const heartbeat = wire.heartbeat();
  if (command.heartbeatIntervalMs !== undefined && heartbeat !== undefined && group.heartbeat === undefined) {
    group.heartbeat = setInterval(() => {
      for (const socket of group.sockets) if (socket.readyState === WebSocket.OPEN) socket.send(heartbeat);
    }, command.heartbeatIntervalMs);
  }
  received = 0;
  return {
    ok: true,
    connected: opened.filter((socket) => socket !== undefined).length,
    elapsedMs: performance.now() - started,
    failed,
  };
}

async function expect(total: number, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  const complete = await new Promise<boolean>((resolve) => {
    if (received >= total) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    expected = {
      total,
      resolve: () => {
        clearTimeout(timer);
        resolve(true);
      },
    };
  });
  expected = undefined;
  const answer: Answer = { ok: true, received, elapsedMs: performance.now() - started, complete };
  received = 0;
  return answer;
}

function latencies(reference: Readonly<Record<string, number>>): Answer {
  const values: number[] = [];
  let unmatched = 0;
  for (const [key, times] of keyed) {
    const from = reference[key];
    if (from === undefined) {
      unmatched += times.length;
      continue;
    }
    for (const time of times) values.push(time - from);
  }
  const missing = Object.keys(reference).filter((key) => !keyed.has(key)).length;
  const answer: Answer = {
    ok: true,
    matched: values.length,
    unmatched,
    missing,
    latencies: summarize(values),
    firstReceiveAt,
    lastReceiveAt,
  };
  keyed.clear();
  firstReceiveAt = Number.POSITIVE_INFINITY;
  lastReceiveAt = 0;
  return answer;
}

/** One open-loop step: message i leaves at start + i / rate, from sender i mod senders, to its next chat. */
async function load(senders: Group, plan: LoadPlan): Promise<StepResult> {
  const intervalMs = 1000 / plan.ratePerSecond;
  const total = Math.floor((plan.ratePerSecond * plan.durationMs) / 1000);
  const fanout = plan.pushesPerMessage ?? 1;
  const expectedPushes = total * fanout;
  const filler = "x".repeat(plan.contentBytes);
  const start = wallNow() + 20;
  // Throughput is read over the step's second half: by then the pipeline is full, whatever its latency.
  step = {
    // The stamps are rounded to the microsecond: a margin keeps the step's first message in it.
    from: start - 1,
    windowStart: start + plan.durationMs / 2,
    windowEnd: start + plan.durationMs,
    latencies: [],
    inWindow: 0,
    receipts: new Uint16Array(total),
  };
  acks = 0;
  deliveryAcksSent = 0;
  for (const code of Object.keys(errors)) delete errors[code];
  const turns = new Array<number>(senders.sockets.length).fill(0);
  let next = 0;
  let sentLate = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = wallNow();
      while (next < total) {
        const scheduled = start + next * intervalMs;
        if (scheduled > now) break;
        if (now - scheduled > 10) sentLate++;
        const senderIndex = next % senders.sockets.length;
        const socket = senders.sockets[senderIndex] as WebSocket;
        const chats = plan.chatsBySender[senderIndex] ?? [];
        const turn = turns[senderIndex] ?? 0;
        turns[senderIndex] = turn + 1;
        const stamp = `${scheduled.toFixed(3)}|${next}|`;
        socket.send(
          senders.wire.send(
            chats[turn % chats.length] ?? "",
            String(next),
            stamp + filler.slice(stamp.length),
          ),
        );
        next++;
      }
      if (next < total) setTimeout(tick, Math.max(0, Math.min(5, start + next * intervalMs - wallNow())));
      else resolve();
    };
    setTimeout(tick, 20);
  });
  // The drain ends early once every message of the step has arrived.
  const drainEnd = start + plan.durationMs + plan.drainMs;
  while (wallNow() < drainEnd && (step?.latencies.length ?? 0) < expectedPushes) {
    await sleep(Math.min(20, Math.max(0, drainEnd - wallNow())));
  }
  const current = step;
  step = undefined;
  // A push not received by the end of the drain took at least the drain time: count it so, never skip it.
  const missing = Math.max(0, expectedPushes - current.latencies.length);
  for (let i = 0; i < missing; i++) current.latencies.push(plan.drainMs);
  const sorted = Float64Array.from(current.latencies).sort();
  let deliveredToAll = 0;
  for (const receipts of current.receipts) if (receipts >= fanout) deliveredToAll++;
  const pushesPerSecond = (current.inWindow * 2000) / plan.durationMs;
  return {
    offeredPerSecond: plan.ratePerSecond,
    scheduled: total,
    sentLate,
    received: expectedPushes - missing,
    deliveredToAll,
    pushesPerSecond: round(pushesPerSecond, 0),
    achievedPerSecond: round(pushesPerSecond / fanout, 0),
    p50Ms: round(quantile(sorted, 0.5), 2),
    p99Ms: round(quantile(sorted, 0.99), 2),
    p999Ms: round(quantile(sorted, 0.999), 2),
    maxMs: round(quantile(sorted, 1), 2),
    errors: { ...errors },
    acks,
    deliveryAcksSent,
  };
}

async function close(name: string | undefined): Promise<Answer> {
  const chosen = name === undefined ? [...groups.keys()] : [name];
  let closed = 0;
  for (const key of chosen) {
    const group = groups.get(key);
    groups.delete(key);
    if (group === undefined) continue;
    clearInterval(group.heartbeat);
    await Promise.all(
      group.sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            closed++;
            if (socket.readyState === WebSocket.CLOSED) return resolve();
            socket.once("close", () => resolve());
            socket.terminate();
          }),
      ),
    );
  }
  received = 0;
  return { ok: true, closed };
}

async function handle(command: Command): Promise<Answer> {
  switch (command.cmd) {
    case "connect":
      return connect(command);
    case "expect":
      return expect(command.total, command.timeoutMs);
    case "latencies":
      return latencies(command.reference);
    case "load": {
      const senders = groups.get(command.senders);
      if (senders === undefined) return { ok: false, error: `no group ${command.senders}` };
      return { ok: true, step: await load(senders, command.plan) };
    }
    case "close":
      return close(command.group);
  }
}

process.on("message", (message: Envelope<Command>) => {
  handle(message.body).then(
    (body) => process.send?.({ id: message.id, body } satisfies Envelope<Answer>),
    (error: unknown) =>
      process.send?.({
        id: message.id,
        body: { ok: false, error: String(error) },
      } satisfies Envelope<Answer>),
  );
});
process.on("disconnect", () => process.exit(0));
