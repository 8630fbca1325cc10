/**
 * Scenario families: each one weights the scheduler's choices toward the interleavings and faults that a
 * D16 rule exists for (see ARCHITECTURE.md D16, rules 1-9), so that removing the rule from the code makes
 * some seed of the family fail. Every family varies the owners' block caps (1, 3, 50) and tuning, and every
 * run ends with the same invariant checks (invariants.ts).
 */
export interface Family {
  readonly name: string;
  /** What the family stresses, and for which rules. */
  readonly about: string;
  /** Owners alive at once (at least one; a crashed one is replaced). */
  readonly maxOwners: number;
  /** Distinct client_message_ids of the first round, and of the second (after everything was indexed). */
  readonly messages: readonly [number, number];
  readonly secondRound: readonly [number, number];
  /** Probability that a released write lands and its reply is lost. */
  readonly lose: number;
  /** Probability that a released request is refused without being applied. */
  readonly refuse: number;
  /** Probability that a released index write stores only a prefix, then throws. */
  readonly partial: number;
  /** Probability that a publish is refused or lands with its reply lost. */
  readonly logFailure: number;
  /** Relative weights of the client and fault actions against releasing a pending request. */
  readonly weights: {
    readonly duplicate: number;
    readonly sync: number;
    readonly ack: number;
    readonly crash: number;
    readonly spawn: number;
    readonly passivate: number;
    readonly tick: number;
  };
  /** Per owner, drawn at spawn. */
  readonly tuning: {
    readonly blockMaxMessages: readonly number[];
    readonly indexBatchMessages: readonly number[];
    readonly recentSendsLimit: readonly number[];
    readonly memoryLimit: readonly number[];
  };
}

const CAPS = [1, 3, 50] as const;
const TUNING: Family["tuning"] = {
  blockMaxMessages: CAPS,
  indexBatchMessages: [1, 2, 256],
  recentSendsLimit: [0, 2, 1_000],
  memoryLimit: [100_000],
};
const CALM: Family["weights"] = {
  duplicate: 0.6,
  sync: 0.3,
  ack: 0.2,
  crash: 0,
  spawn: 0.1,
  passivate: 0.05,
  tick: 0.3,
};

export const FAMILIES: readonly Family[] = [
  {
    name: "split-brain",
    about:
      "two or three live owners racing for the tail, retries through any of them; no failures (rules 1, 2, 6)",
    maxOwners: 3,
    messages: [4, 9],
    secondRound: [2, 5],
    lose: 0,
    refuse: 0,
    partial: 0,
    logFailure: 0,
    weights: { ...CALM, duplicate: 1, sync: 0.6 },
    tuning: TUNING,
  },
  {
    name: "lost-replies",
    about: "writes that landed but whose reply was lost, and refused requests (rules 1, 6; D1)",
    maxOwners: 2,
    messages: [4, 8],
    secondRound: [2, 4],
    lose: 0.25,
    refuse: 0.1,
    partial: 0,
    logFailure: 0.1,
    weights: CALM,
    tuning: TUNING,
  },
  {
    name: "index-behind",
    about:
      "the index written behind the ack in part, the watermark raced by several owners, retries after the " +
      "window (rules 3, 4, 5, 8)",
    maxOwners: 3,
    messages: [4, 9],
    secondRound: [3, 6],
    lose: 0.1,
    refuse: 0.05,
    partial: 0.35,
    logFailure: 0,
    weights: { ...CALM, duplicate: 1.2, tick: 0.8, passivate: 0.15 },
    tuning: { ...TUNING, indexBatchMessages: [1, 1, 2], recentSendsLimit: [0, 0, 2] },
  },
  {
    name: "crashes",
    about:
      "owners dying between any two storage calls, requests in flight landing or not (D1, D4, rules 2, 6)",
    maxOwners: 2,
    messages: [4, 8],
    secondRound: [2, 4],
    lose: 0.05,
    refuse: 0.05,
    partial: 0.1,
    logFailure: 0.05,
    weights: { ...CALM, crash: 0.12, spawn: 0.4 },
    tuning: TUNING,
  },
  {
    name: "event-log",
    about:
      "the event log refusing or losing replies while sends go on, owners handing over (D4, invariant 5)",
    maxOwners: 2,
    messages: [4, 8],
    secondRound: [2, 4],
    lose: 0,
    refuse: 0,
    partial: 0,
    logFailure: 0.45,
    weights: { ...CALM, passivate: 0.2, tick: 0.6, crash: 0.04, spawn: 0.3 },
    tuning: TUNING,
  },
  {
    name: "readers",
    about:
      "syncs and acks through stale owners, reads after every position with mixed block caps (rules 2, 7, 9)",
    maxOwners: 3,
    messages: [5, 10],
    secondRound: [2, 4],
    lose: 0.05,
    refuse: 0.05,
    partial: 0,
    logFailure: 0,
    weights: { ...CALM, sync: 1.5, ack: 1, duplicate: 0.8 },
    tuning: TUNING,
  },
  {
    name: "mixed",
    about: "every fault at once",
    maxOwners: 3,
    messages: [4, 10],
    secondRound: [2, 6],
    lose: 0.12,
    refuse: 0.08,
    partial: 0.2,
    logFailure: 0.15,
    weights: { ...CALM, duplicate: 1, sync: 0.6, ack: 0.4, crash: 0.06, spawn: 0.3, tick: 0.5 },
    tuning: { ...TUNING, indexBatchMessages: [1, 2, 256], recentSendsLimit: [0, 2, 1_000] },
  },
];

export function familyNamed(name: string): Family {
  const family = FAMILIES.find((candidate) => candidate.name === name);
  if (family === undefined)
    throw new Error(`no family ${name}; known: ${FAMILIES.map((known) => known.name).join(", ")}`);
  return family;
}
