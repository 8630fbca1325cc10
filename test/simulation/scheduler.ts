import { setImmediate as nextMacrotask } from "node:timers/promises";
import { AppError } from "../../runtime/errors.js";
import type { Random } from "../harness/backoff.js";

/**
 * The heart of the deterministic simulation: every storage request an owner makes (message store, event
 * log) becomes a pending step, and only the scheduler decides which one reaches the shared store next and
 * what the caller hears back. Between two steps every microtask runs to completion (nothing in the
 * simulated world uses real time or I/O: the clock is a ManualClock, the stores are in memory), so the same
 * seed always yields the same interleaving and the same trace.
 */

/** What happens to a released request. */
export type Release =
  /** Applied; the caller gets the answer. */
  | "ok"
  /** Refused before it reached storage (a throttle, a dropped connection): nothing applied. */
  | "fail"
  /** Applied, then the reply was lost (an SDK timeout after the write landed): the caller gets an error. */
  | "lost"
  /** Index writes only: a prefix of the records is stored, then the call throws (UnprocessedItems exhausted). */
  | "partial";

export interface StepRequest<T> {
  readonly owner: string;
  /** Method and arguments in short, for the trace. */
  readonly label: string;
  /** Whether the request writes (only writes can lose a reply that matters). */
  readonly writes: boolean;
  /** How many items it writes that a partial application can cut (index records); 0 = not divisible. */
  readonly divisible: number;
  /** Performs the request on the shared store; `keep` items only, for a partial application. */
  readonly apply: (keep?: number) => Promise<T>;
  /** Short description of an answer, for the trace. */
  readonly describe?: (answer: T) => string;
}

interface PendingStep {
  readonly id: number;
  readonly request: StepRequest<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export const simulatedFailure = (what: string): AppError =>
  new AppError("SERVICE_UNAVAILABLE", `simulated: ${what}`);

/** Lets every microtask of the simulated world run: nothing can move until the scheduler releases a step. */
export const quiesce = (): Promise<void> => nextMacrotask();

export class StepScheduler {
  private nextId = 1;
  private queue: PendingStep[] = [];
  /** Owners that crashed: their requests never reach storage again and never get an answer. */
  private readonly dead = new Set<string>();
  readonly trace: string[] = [];
  steps = 0;

  constructor(private readonly random: Random) {}

  note(line: string): void {
    this.trace.push(`${String(this.trace.length).padStart(5, " ")} ${line}`);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** A request of `owner`, held until the scheduler releases it. */
  request<T>(request: StepRequest<T>): Promise<T> {
    if (this.dead.has(request.owner)) return new Promise<T>(() => {}); // a dead process never hears back
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        request: request as StepRequest<unknown>,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
    });
  }

  /** Releases one pending request, chosen by the seed, with the given fate (downgraded to what it allows). */
  async releaseOne(fate: (request: StepRequest<unknown>) => Release): Promise<void> {
    const index = Math.floor(this.random() * this.queue.length);
    const [step] = this.queue.splice(index, 1);
    if (step === undefined) return;
    await this.release(step, fate(step.request));
  }

  /**
   * A scripted scenario's next step: releases the oldest pending request of `owner` whose label matches.
   * Throws when there is none (the scenario no longer drives the code where it meant to).
   */
  async releaseMatching(owner: string, label: RegExp, fate: Release = "ok"): Promise<void> {
    const index = this.queue.findIndex(
      (step) => step.request.owner === owner && label.test(step.request.label),
    );
    const [step] = index < 0 ? [] : this.queue.splice(index, 1);
    if (step === undefined) {
      const waiting = this.queue.map((pending) => `${pending.request.owner} ${pending.request.label}`);
      throw new Error(
        `no pending request of ${owner} matches ${label}; pending: ${waiting.join("; ") || "none"}`,
      );
    }
    await this.release(step, fate);
  }

  /** Applies one request as `wanted` says (a fate it cannot have becomes a refusal) and answers its caller. */
  private async release(step: PendingStep, wanted: Release): Promise<void> {
    const { request } = step;
    const release: Release =
      wanted === "partial" && request.divisible === 0
        ? "fail"
        : wanted === "lost" && !request.writes
          ? "fail"
          : wanted;
    this.steps++;
    const tag = `#${step.id} ${request.owner} ${request.label}`;
    if (release === "fail") {
      this.note(`${tag} -> refused (not applied)`);
      step.reject(simulatedFailure(`${request.label} refused`));
      return;
    }
    const keep = release === "partial" ? Math.floor(this.random() * request.divisible) : undefined;
    let answer: unknown;
    try {
      answer = await request.apply(keep);
    } catch (error) {
      this.note(`${tag} -> threw ${error instanceof Error ? error.message : String(error)}`);
      step.reject(error);
      return;
    }
    if (release === "partial") {
      this.note(`${tag} -> partial: ${keep} of ${request.divisible} stored, then threw`);
      step.reject(simulatedFailure("UnprocessedItems left after retries"));
    } else if (release === "lost") {
      this.note(`${tag} -> applied (${request.describe?.(answer) ?? "done"}), reply lost`);
      step.reject(simulatedFailure(`${request.label}: reply lost`));
    } else {
      this.note(`${tag} -> ${request.describe?.(answer) ?? "done"}`);
      step.resolve(answer);
    }
  }

  /**
   * The owner's process dies: each of its requests in flight either reached storage (applied, nobody hears
   * back) or did not, by the seed; later requests of it never reach storage.
   */
  async kill(owner: string): Promise<void> {
    this.dead.add(owner);
    const mine = this.queue.filter((step) => step.request.owner === owner);
    this.queue = this.queue.filter((step) => step.request.owner !== owner);
    for (const step of mine) {
      if (step.request.writes && this.random() < 0.5) {
        await step.request.apply().catch(() => {});
        this.note(`#${step.id} ${owner} ${step.request.label} -> landed after the crash, nobody heard`);
      } else {
        this.note(`#${step.id} ${owner} ${step.request.label} -> lost with the process`);
      }
    }
  }

  isDead(owner: string): boolean {
    return this.dead.has(owner);
  }
}
