import { type Actor, createActor } from "xstate";
import { actorLifecycleMachine } from "./actor-lifecycle.machine.js";
import type { Clock } from "./clock.js";
import { AppError, toAppError } from "./errors.js";
import type { Logger } from "./logger.js";
import { type ActorRecorder, NO_ACTOR_METRICS } from "./metrics/recorders.js";

/**
 * The actor substrate: one mailbox per actor key, processed one batch at a time (never two batches of one
 * actor at once), activation on the first message, passivation after `idleTimeoutMs` without work, and
 * supervision: an actor whose `receive` throws is discarded with its batch rejected, and the next message
 * activates a fresh instance from the database. Each actor's lifecycle is an XState machine, run on the
 * injected clock so its idle timer is driven by tests without sleeping.
 */
export interface Envelope<M, R> {
  readonly message: M;
  resolve(reply: R): void;
  reject(error: unknown): void;
  /** True once resolved or rejected. */
  readonly settled: boolean;
}

export interface ActorInstance<M, R> {
  /** Loads the actor's state (from the database); a rejection fails every queued message. */
  activate(): Promise<void>;
  /** Handles queued messages in arrival order, settling each envelope. Throwing counts as a crash. */
  receive(batch: readonly Envelope<M, R>[]): Promise<void>;
  /**
   * Finishes background work before passivation (e.g. publishing an outbox); must be bounded. Resolves false
   * when work is left that cannot be finished now: an idle actor then stays active and tries again after
   * another idle period; one that is stopping or losing ownership passivates anyway.
   */
  drain(): Promise<boolean>;
  /** Stops every timer and background task: the instance is being discarded (after a drain or a crash). */
  dispose(): void;
}

export type LifecycleActor = Actor<typeof actorLifecycleMachine>;

export interface ActorHostOptions<M, R> {
  readonly create: (key: string) => ActorInstance<M, R>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly idleTimeoutMs: number;
  /** Messages handed to one `receive` call at most. */
  readonly maxBatch: number;
  /** Told about every new lifecycle actor, e.g. to count states or stream transitions to an inspector. */
  readonly onLifecycle?: (key: string, lifecycle: LifecycleActor) => void;
  /** Counts activations and passivations; default: nothing is recorded. */
  readonly metrics?: ActorRecorder;
  /**
   * Told after an instance was discarded because `receive` or `drain` threw: its background work (an outbox)
   * went with it, so the supervisor may restart it from the database even if no message comes.
   */
  readonly onCrashed?: (key: string) => void;
}

type StateValue = string | { readonly [key: string]: StateValue | undefined };

const statePath = (value: StateValue): string => {
  if (typeof value === "string") return value;
  const [key, child] = Object.entries(value)[0] ?? ["", undefined];
  return child === undefined ? key : `${key}.${statePath(child)}`;
};

class Mailbox<M, R> {
  readonly queue: Envelope<M, R>[] = [];
  instance: ActorInstance<M, R> | undefined;
  lifecycle: LifecycleActor | undefined;
  loop: Promise<void> | undefined;
}

export class ActorHost<M, R> {
  private readonly mailboxes = new Map<string, Mailbox<M, R>>();
  private readonly lifecycleListeners = new Set<(key: string, lifecycle: LifecycleActor) => void>();
  private closed = false;
  private readonly metrics: ActorRecorder;

  constructor(private readonly options: ActorHostOptions<M, R>) {
    this.metrics = options.metrics ?? NO_ACTOR_METRICS;
  }

  /** Queues a message for the actor `key` (activating it when needed) and resolves with its reply. */
  ask(key: string, message: M): Promise<R> {
    if (this.closed) return Promise.reject(new AppError("SERVICE_UNAVAILABLE", "the actor host is stopping"));
    return new Promise<R>((resolve, reject) => {
      let settled = false;
      const envelope: Envelope<M, R> = {
        message,
        resolve: (reply) => {
          if (settled) return;
          settled = true;
          resolve(reply);
        },
        reject: (error) => {
          if (settled) return;
          settled = true;
          reject(error);
        },
        get settled() {
          return settled;
        },
      };
      const mailbox = this.mailboxOf(key);
      mailbox.queue.push(envelope);
      this.wake(key, mailbox);
    });
  }

  /**
   * Like the `onLifecycle` option, for a listener that comes after the host was built (the inspector): told
   * about every lifecycle actor started from now on, until the returned function is called.
   */
  observeLifecycles(listener: (key: string, lifecycle: LifecycleActor) => void): () => void {
    this.lifecycleListeners.add(listener);
    return () => this.lifecycleListeners.delete(listener);
  }

  /** Keys of the actors that have a live instance. */
  activeKeys(): string[] {
    return [...this.mailboxes].filter(([, mailbox]) => mailbox.instance !== undefined).map(([key]) => key);
  }

  /** The live instance of an actor (for inspection and tests), if it has one. */
  instanceOf(key: string): ActorInstance<M, R> | undefined {
    return this.mailboxes.get(key)?.instance;
  }

  /** The lifecycle state of an actor as a dotted path (`ready.idle`), or undefined when it has no instance. */
  stateOf(key: string): string | undefined {
    const lifecycle = this.mailboxes.get(key)?.lifecycle;
    return lifecycle === undefined ? undefined : statePath(lifecycle.getSnapshot().value);
  }

  /**
   * Asks one actor to finish its mailbox, drain and passivate (ownership lost). Resolves when it has; the
   * caller stops routing new messages to this host first.
   */
  async passivate(key: string, reason: "ownership_lost" | "shutdown" = "ownership_lost"): Promise<void> {
    const mailbox = this.mailboxes.get(key);
    if (mailbox === undefined) return;
    mailbox.lifecycle?.send({ type: "DRAIN", reason });
    this.wake(key, mailbox);
    await mailbox.loop;
  }

  /** Drains and passivates every actor, refusing new messages. */
  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.mailboxes.keys()].map((key) => this.passivate(key, "shutdown")));
  }

  private mailboxOf(key: string): Mailbox<M, R> {
    let mailbox = this.mailboxes.get(key);
    if (mailbox === undefined) {
      mailbox = new Mailbox();
      this.mailboxes.set(key, mailbox);
    }
    return mailbox;
  }

  /** Starts the mailbox's processing loop unless it runs; the loop is the only place an actor does work. */
  private wake(key: string, mailbox: Mailbox<M, R>): void {
    if (mailbox.loop !== undefined) return;
    mailbox.loop = this.run(key, mailbox)
      .catch((error: unknown) => this.options.logger.error({ err: error, actor: key }, "actor loop failed"))
      .finally(() => {
        mailbox.loop = undefined;
        const idle = mailbox.queue.length === 0 && mailbox.instance === undefined;
        if (idle && this.mailboxes.get(key) === mailbox) this.mailboxes.delete(key);
        else if (!idle && this.needsWork(mailbox)) this.wake(key, mailbox);
      });
  }

  private needsWork(mailbox: Mailbox<M, R>): boolean {
    return mailbox.queue.length > 0 || this.isDraining(mailbox);
  }

  private isDraining(mailbox: Mailbox<M, R>): boolean {
    return mailbox.lifecycle?.getSnapshot().matches("draining") ?? false;
  }

  private async run(key: string, mailbox: Mailbox<M, R>): Promise<void> {
    for (;;) {
      if (mailbox.queue.length > 0) {
        if (mailbox.instance === undefined && !(await this.activate(key, mailbox))) return;
        await this.receiveBatch(key, mailbox);
        continue;
      }
      if (this.isDraining(mailbox)) {
        await this.drain(key, mailbox);
        continue;
      }
      return;
    }
  }

  private async activate(key: string, mailbox: Mailbox<M, R>): Promise<boolean> {
    const lifecycle = createActor(actorLifecycleMachine, {
      clock: this.options.clock,
      input: { actorId: key, idleTimeoutMs: this.options.idleTimeoutMs },
    });
    // The idle timer fires inside the machine; the loop must then run to drain.
    lifecycle.subscribe((snapshot) => {
      if (snapshot.matches("draining") && mailbox.lifecycle === lifecycle) this.wake(key, mailbox);
    });
    lifecycle.start();
    mailbox.lifecycle = lifecycle;
    this.options.onLifecycle?.(key, lifecycle);
    for (const listener of this.lifecycleListeners) listener(key, lifecycle);
    const instance = this.options.create(key);
    try {
      await instance.activate();
    } catch (error) {
      const failure = toAppError(error);
      lifecycle.send({ type: "ACTIVATION_FAILED", reason: failure.message });
      this.options.logger.warn({ err: error, actor: key }, "actor activation failed");
      this.metrics.activated(false);
      for (const envelope of mailbox.queue.splice(0)) envelope.reject(failure);
      instance.dispose();
      this.discard(mailbox);
      return false;
    }
    mailbox.instance = instance;
    lifecycle.send({ type: "ACTIVATED" });
    this.metrics.activated(true);
    return true;
  }

  private async receiveBatch(key: string, mailbox: Mailbox<M, R>): Promise<void> {
    const { instance, lifecycle } = mailbox;
    if (instance === undefined || lifecycle === undefined) return;
    const batch = mailbox.queue.splice(0, this.options.maxBatch);
    lifecycle.send({ type: "WORK_STARTED" });
    try {
      await instance.receive(batch);
    } catch (error) {
      // Supervision: the instance's memory may be inconsistent with the database now; drop it. Its callers
      // retry (sends are idempotent by client_message_id) and meet a fresh instance loaded from the database.
      this.options.logger.error({ err: error, actor: key }, "actor crashed; it restarts from the database");
      lifecycle.send({ type: "CRASHED", reason: toAppError(error).message });
      const failure = new AppError("SERVICE_UNAVAILABLE", "the chat's actor restarted; retry", {
        cause: error,
      });
      for (const envelope of batch) envelope.reject(failure);
      this.discard(mailbox);
      this.metrics.passivated("crashed");
      this.options.onCrashed?.(key);
      return;
    }
    // Only an envelope the actor left unsettled gets an error (built then: an error captures a stack trace,
    // which every message of every batch paid for when it was built up front).
    for (const envelope of batch) {
      if (envelope.settled) continue;
      envelope.reject(
        new AppError("INTERNAL_ERROR", "the actor left a message unanswered", { public: false }),
      );
    }
    lifecycle.send({ type: "WORK_DONE" });
  }

  private async drain(key: string, mailbox: Mailbox<M, R>): Promise<void> {
    const { instance, lifecycle } = mailbox;
    try {
      const finished = (await instance?.drain()) ?? true;
      if (!finished && lifecycle?.getSnapshot().context.drainReason === "idle") {
        lifecycle.send({ type: "DRAIN_DEFERRED" });
        return;
      }
      lifecycle?.send({ type: "DRAINED" });
      this.metrics.passivated(lifecycle?.getSnapshot().context.drainReason ?? "shutdown");
    } catch (error) {
      this.options.logger.warn(
        { err: error, actor: key },
        "actor drain failed; its state stays in the database",
      );
      lifecycle?.send({ type: "CRASHED", reason: toAppError(error).message });
      this.metrics.passivated("crashed");
      this.discard(mailbox);
      this.options.onCrashed?.(key);
      return;
    }
    this.discard(mailbox);
  }

  private discard(mailbox: Mailbox<M, R>): void {
    mailbox.instance?.dispose();
    mailbox.lifecycle?.stop();
    mailbox.lifecycle = undefined;
    mailbox.instance = undefined;
  }
}
