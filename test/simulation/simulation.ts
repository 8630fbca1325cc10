import { MemoryChatStore } from "../../runtime/adapters/memory/chat-store.js";
import { InProcessEventLog } from "../../runtime/adapters/memory/event-log.js";
import { MemoryMessageStore } from "../../runtime/adapters/memory/message-store.js";
import { ManualClock } from "../../runtime/clock.js";
import {
  decodeEnvelope,
  type MessagePersistedPayload,
  messagePersistedPayload,
} from "../../runtime/events.js";
import { type ChatId, IdFactory, type UserId } from "../../runtime/ids.js";
import type { PersistRequest } from "../../runtime/ingest-api.js";
import { TOPICS } from "../../runtime/topics.js";
import { type Random, seededRandom } from "../harness/backoff.js";
import { createActiveChat } from "../support/chats.js";
import { Clients } from "./clients.js";
import type { Family } from "./families.js";
import { checkInvariants } from "./invariants.js";
import { type OwnerTuning, SimOwner } from "./owner.js";
import { quiesce, type Release, type StepRequest, StepScheduler } from "./scheduler.js";

/**
 * One run of the write-path simulation: a chat, one shared in-memory store and log, owners (ingest processes)
 * that come and go, clients that send and retry with the same client_message_id through any owner, and a
 * seeded scheduler that decides, step by step, which storage request lands next and what fault it meets.
 *
 * Phases: round 1 (chaos: sends, retries, syncs, acks, crashes, faults), settle (no faults: every request
 * answered, every send acknowledged, timers run out, so the index catches up and owners passivate), round 2
 * (the same chaos with new sends and many retries of round 1's, now answered from the index), settle, then
 * the final recovery (a fresh owner wakes the chat and drains it) and the invariant checks.
 */

export interface SimulationResult {
  readonly seed: number;
  readonly family: string;
  readonly violations: string[];
  readonly trace: readonly string[];
  /** Storage requests released (the interleaving's length). */
  readonly steps: number;
  readonly messages: number;
  readonly owners: number;
  readonly crashes: number;
}

/** Bound on settling: a run that cannot settle within it is reported (a liveness failure). */
const SETTLE_STEPS = 30_000;
const TICKS_MS = [100, 1_000, 10_000, 60_000] as const;

const pick = <T>(random: Random, items: readonly T[]): T => {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
};
const between = (random: Random, [low, high]: readonly [number, number]): number =>
  low + Math.floor(random() * (high - low + 1));

export async function runSimulation(seed: number, family: Family): Promise<SimulationResult> {
  const world = new World(seed, family);
  return world.run();
}

class World {
  private readonly random: Random;
  private readonly clock = new ManualClock(Date.UTC(2026, 0, 1));
  private readonly store = new MemoryMessageStore({ clock: this.clock });
  private readonly chatStore = new MemoryChatStore({ clock: this.clock });
  private readonly eventLog = new InProcessEventLog({ clock: this.clock });
  private readonly scheduler: StepScheduler;
  private readonly owners: SimOwner[] = [];
  private readonly clients: Clients;
  private readonly events: MessagePersistedPayload[] = [];
  private readonly violations: string[] = [];
  private members: UserId[] = [];
  private chatId = "" as ChatId;
  private nextOwner = 1;
  private nextMessage = 1;
  private crashes = 0;
  /** Faults and chaos actions are on (rounds) or off (settling, recovery). */
  private chaos = false;

  constructor(
    private readonly seed: number,
    private readonly family: Family,
  ) {
    this.random = seededRandom(seed);
    this.scheduler = new StepScheduler(seededRandom(seed ^ 0x9e3779b9));
    this.clients = new Clients(
      this.store,
      (line) => this.note(line),
      (line) => this.violations.push(line),
    );
  }

  private note(line: string): void {
    this.scheduler.note(line);
  }

  async run(): Promise<SimulationResult> {
    const ids = new IdFactory(this.clock, () => new Uint8Array(10).fill(7));
    this.members = [ids.user(), ids.user(), ids.user()];
    this.chatId = await createActiveChat(this.chatStore, { ids, clock: this.clock }, this.members);
    await this.eventLog.ensureTopics([{ name: TOPICS.messagesPersisted, partitions: 4 }]);
    const subscription = await this.eventLog.subscribe({
      groupId: "simulation-observer",
      topics: [TOPICS.messagesPersisted],
      fromBeginning: true,
      handle: async (batch) => {
        for (const record of batch.records)
          this.events.push(messagePersistedPayload(decodeEnvelope(record.value)));
      },
    });
    this.note(`seed ${this.seed}, family ${this.family.name}: ${this.family.about}`);
    try {
      this.spawn();
      if (this.family.maxOwners > 1) this.spawn();
      await this.round(between(this.random, this.family.messages));
      await this.settle("round 1");
      await this.round(between(this.random, this.family.secondRound), true);
      await this.settle("round 2");
      await this.recover();
      if (this.violations.length === 0) {
        this.violations.push(
          ...(await checkInvariants({
            store: this.store,
            chatId: this.chatId,
            members: this.members,
            sends: this.clients.requests,
            answers: this.clients.answers,
            syncs: this.clients.syncs,
            acks: this.clients.acks,
            events: this.events,
            crashed: new Set(this.owners.filter((owner) => owner.dead).map((owner) => owner.name)),
            now: this.clock.now(),
          })),
        );
      }
    } catch (error) {
      this.violations.push(
        `the simulation itself failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
    } finally {
      for (const owner of this.owners) if (!owner.dead) await owner.crash();
      await subscription.stop();
      await this.eventLog.close();
    }
    return {
      seed: this.seed,
      family: this.family.name,
      violations: this.violations,
      trace: this.scheduler.trace,
      steps: this.scheduler.steps,
      messages: this.clients.requests.length,
      owners: this.owners.length,
      crashes: this.crashes,
    };
  }

  private live(): SimOwner[] {
    return this.owners.filter((owner) => !owner.dead);
  }

  private spawn(): SimOwner {
    const { tuning } = this.family;
    const chosen: OwnerTuning = {
      blockMaxMessages: pick(this.random, tuning.blockMaxMessages),
      indexBatchMessages: pick(this.random, tuning.indexBatchMessages),
      recentSendsLimit: pick(this.random, tuning.recentSendsLimit),
      memoryLimit: pick(this.random, tuning.memoryLimit),
    };
    const owner = new SimOwner(
      `o${this.nextOwner++}`,
      chosen,
      {
        store: this.store,
        chatStore: this.chatStore,
        eventLog: this.eventLog,
        clock: this.clock,
        scheduler: this.scheduler,
        onLog: (name, level, line) => {
          this.note(`${name} logged ${level >= 50 ? "ERROR" : "warn"}: ${line}`);
          // An error log of the write path means it met something it believes impossible.
          if (level >= 50) this.violations.push(`${name} logged an error: ${line}`);
        },
      },
      seededRandom(this.seed + 7_919 * this.nextOwner),
    );
    this.owners.push(owner);
    this.note(`spawn ${owner.describe()}`);
    return owner;
  }

  /** One round of chaos: `fresh` new sends, with retries, duplicates, reads and faults interleaved. */
  private async round(fresh: number, afterWindow = false): Promise<void> {
    this.chaos = true;
    const unsent: PersistRequest[] = [];
    for (let index = 0; index < fresh; index++) {
      const n = this.nextMessage++;
      unsent.push({
        chatId: this.chatId,
        senderId: pick(this.random, this.members),
        clientMessageId: `c${n}`,
        content: `message ${n}`,
        contentType: "text/plain",
      });
    }
    // Round 2 retries round 1's sends heavily: their records are in the index by now (after the window).
    const duplicateWeight = this.family.weights.duplicate * (afterWindow ? 2 : 1);
    let budget = fresh * 4 + 6;
    while (budget > 0 || unsent.length > 0) {
      await quiesce();
      const w = this.family.weights;
      const live = this.live();
      const retryable = this.clients.retryable(this.isDead);
      const known = this.clients.requests;
      const choices: [number, () => Promise<void> | void][] = [
        [this.scheduler.pending * 1.5, () => this.releaseOne()],
        [unsent.length > 0 ? 1.2 : 0, () => this.send(unsent.shift() as PersistRequest)],
        [retryable.length > 0 ? 1 : 0, () => this.send(pick(this.random, retryable))],
        [known.length > 0 ? duplicateWeight : 0, () => this.send(pick(this.random, known))],
        [w.sync, () => this.sync()],
        [this.clients.answers.length > 0 ? w.ack : 0, () => this.ack()],
        [live.length > 1 || live.length < this.family.maxOwners ? w.crash : 0, () => this.crash()],
        [
          live.length < this.family.maxOwners ? w.spawn + (live.length === 0 ? 10 : 0) : 0,
          () => void this.spawn(),
        ],
        [live.length > 0 ? w.passivate : 0, () => this.passivate()],
        [w.tick, () => this.tick(pick(this.random, TICKS_MS))],
      ];
      const total = choices.reduce((sum, [weight]) => sum + weight, 0);
      let roll = this.random() * total;
      for (const [index, [weight, action]] of choices.entries()) {
        roll -= weight;
        if (roll < 0 && weight > 0) {
          if (index > 0) budget--; // releasing a request is not a client or fault action
          await action();
          break;
        }
      }
    }
    this.chaos = false;
  }

  /**
   * No faults: every request is answered, every send acknowledged (retried until it is), every timer runs
   * out (the index catches up, idle owners drain and passivate).
   */
  private async settle(what: string): Promise<void> {
    this.note(`settle after ${what}`);
    for (let step = 0; step < SETTLE_STEPS; step++) {
      await quiesce();
      if (this.scheduler.pending > 0) {
        await this.releaseOne();
        continue;
      }
      const [retry] = this.clients.retryable(this.isDead);
      if (retry !== undefined) {
        this.send(retry);
        continue;
      }
      if (this.clock.pendingTimers > 0) {
        this.tick(1_000);
        continue;
      }
      const unanswered = this.clients.unacknowledged();
      if (unanswered.length > 0)
        this.violations.push(`liveness: nothing pending, yet never acknowledged: ${unanswered.join(", ")}`);
      return;
    }
    this.violations.push(
      `liveness: did not settle after ${what} within ${SETTLE_STEPS} steps (${this.scheduler.pending} pending)`,
    );
  }

  /** A fresh owner wakes the chat (its outbox resumes from published_through) and drains it (D4). */
  private async recover(): Promise<void> {
    const owner = this.spawn();
    this.note(`final recovery through ${owner.name}`);
    let woke = false;
    owner.wake(this.chatId).then(
      (result) => {
        woke = true;
        this.note(`${owner.name} woke the chat at tail ${result.tail}`);
      },
      (error: unknown) => this.violations.push(`final recovery: wake failed: ${String(error)}`),
    );
    await this.settleRequests();
    if (!woke) return;
    owner.passivate(this.chatId).catch((error: unknown) => {
      this.violations.push(`final recovery: drain failed: ${String(error)}`);
    });
    await this.settleRequests();
    await this.settle("final recovery");
  }

  private async settleRequests(): Promise<void> {
    for (let step = 0; step < SETTLE_STEPS; step++) {
      await quiesce();
      if (this.scheduler.pending === 0) return;
      await this.releaseOne();
    }
  }

  private releaseOne(): Promise<void> {
    return this.scheduler.releaseOne((request) => this.fate(request));
  }

  private fate(request: StepRequest<unknown>): Release {
    if (!this.chaos) return "ok";
    const roll = this.random();
    const { lose, refuse, partial, logFailure } = this.family;
    if (request.label.startsWith("publish")) {
      if (roll < logFailure / 2) return "fail";
      if (roll < logFailure) return "lost";
      return "ok";
    }
    if (request.divisible > 0 && roll < partial) return "partial";
    if (request.writes && this.random() < lose) return "lost";
    if (this.random() < refuse) return "fail";
    return "ok";
  }

  private readonly isDead = (name: string): boolean => this.ownerNamed(name).dead;

  private ownerNamed(name: string): SimOwner {
    const owner = this.owners.find((candidate) => candidate.name === name);
    if (owner === undefined) throw new Error(`no owner ${name}`);
    return owner;
  }

  private liveOwner(): SimOwner {
    const live = this.live();
    return live.length > 0 ? pick(this.random, live) : this.spawn();
  }

  /** A client's send (or its retry, or a duplicate) through some live owner. */
  private send(request: PersistRequest): void {
    const owner = this.liveOwner();
    this.clients.send(owner, request, owner.position(this.chatId));
  }

  /** A member reads a page after some position, through some live owner (maybe a stale one). */
  private sync(): void {
    const owner = this.liveOwner();
    const afterSequence = Math.floor(this.random() * (this.clients.highestAnswered + 2));
    const limit = 1 + Math.floor(this.random() * 5);
    const userId = pick(this.random, this.members);
    this.clients.sync(
      owner,
      { chatId: this.chatId, userId, afterSequence, limit },
      owner.position(this.chatId),
    );
  }

  /** A member acknowledges a sequence some client was answered, through some live owner. */
  private ack(): void {
    const owner = this.liveOwner();
    const userId = pick(this.random, this.members);
    const sequence = pick(this.random, this.clients.answers).result.sequence;
    this.clients.ack(owner, { chatId: this.chatId, userId, sequence }, owner.position(this.chatId));
  }

  private async crash(): Promise<void> {
    const live = this.live();
    if (live.length === 0) return;
    const owner = pick(this.random, live);
    this.note(`CRASH ${owner.name} [${owner.position(this.chatId)}]`);
    this.crashes++;
    await owner.crash();
  }

  private passivate(): void {
    const owner = pick(this.random, this.live());
    this.note(`passivate ${owner.name} [${owner.position(this.chatId)}]`);
    owner
      .passivate(this.chatId)
      .catch((error: unknown) => this.note(`passivate ${owner.name}: ${String(error)}`));
  }

  private tick(deltaMs: number): void {
    this.note(`tick +${deltaMs} ms`);
    this.clock.advance(deltaMs);
  }
}
