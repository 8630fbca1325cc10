import { type ChildProcess, fork } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Answer, Command, Envelope, LoadPlan, RecordMode, StepResult, Target } from "./protocol.js";
import type { LatencySummary } from "./stats.js";
import type { WireName } from "./wire.js";

const CLIENT_PROCESS = join(dirname(fileURLToPath(import.meta.url)), "client-process.ts");

/** The bench process's handle on one load-client process (./client-process.ts). */
export class LoadClients {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, (answer: Answer) => void>();
  private exited: string | undefined;

  constructor() {
    this.child = fork(CLIENT_PROCESS, [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child.on("message", (message: Envelope<Answer>) => {
      this.pending.get(message.id)?.(message.body);
      this.pending.delete(message.id);
    });
    this.child.once("exit", (code, signal) => {
      this.exited = `load clients exited (${signal ?? code})`;
      for (const resolve of this.pending.values()) resolve({ ok: false, error: this.exited });
      this.pending.clear();
    });
  }

  /** The child's pid, e.g. to profile it. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a command and resolves with its answer, typed by the caller (the command decides the shape). */
  private async ask<T>(command: Command): Promise<T> {
    if (this.exited !== undefined) throw new Error(this.exited);
    const id = this.nextId++;
    const answer = await new Promise<Answer>((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ id, body: command } satisfies Envelope<Command>);
    });
    if (!answer.ok) throw new Error(answer.error);
    return answer as T;
  }

  /** Opens one socket per target, `concurrency` handshakes at a time; resolves once all are open (or failed). */
  connect(
    group: string,
    targets: readonly Target[],
    options: {
      waitFirstFrame: boolean;
      record: RecordMode;
      concurrency?: number;
      wire?: WireName;
      ackIntervalMs?: number;
      heartbeatIntervalMs?: number;
    },
  ): Promise<{ connected: number; elapsedMs: number; failed: number }> {
    return this.ask({
      cmd: "connect",
      group,
      targets,
      waitFirstFrame: options.waitFirstFrame,
      record: options.record,
      concurrency: options.concurrency ?? 50,
      ...(options.wire === undefined ? {} : { wire: options.wire }),
      ...(options.ackIntervalMs === undefined ? {} : { ackIntervalMs: options.ackIntervalMs }),
      ...(options.heartbeatIntervalMs === undefined
        ? {}
        : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    });
  }

  /**
   * Resolves when `total` frames have arrived since the last connect/expect (the counter restarts after),
   * or after `timeoutMs`. Send the command before the pushes start.
   */
  expect(
    total: number,
    timeoutMs: number,
  ): Promise<{ received: number; elapsedMs: number; complete: boolean }> {
    return this.ask({ cmd: "expect", total, timeoutMs });
  }

  /** Latency of every keyed receipt from `reference[chat_id#sequence]`; clears the receipts. */
  latencies(reference: Readonly<Record<string, number>>): Promise<{
    matched: number;
    unmatched: number;
    missing: number;
    latencies: LatencySummary;
    firstReceiveAt: number;
    lastReceiveAt: number;
  }> {
    return this.ask({ cmd: "latencies", reference });
  }

  /** Runs one open-loop step from the `senders` group; the stamped groups measure it. */
  async load(senders: string, plan: LoadPlan): Promise<StepResult> {
    return (await this.ask<{ step: StepResult }>({ cmd: "load", senders, plan })).step;
  }

  close(group?: string): Promise<{ closed: number }> {
    return this.ask(group === undefined ? { cmd: "close" } : { cmd: "close", group });
  }

  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
