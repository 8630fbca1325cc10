import type { AnyStateMachine } from "xstate";

/**
 * What the inspector knows of the machines of a process: the planes register them (the composition root
 * lists them in app/machines.ts); the runtime never imports a plane's machine.
 */

/** What kind of live actor a machine models in a running process, e.g. "sequencer" (the inspector counts them). */
export type ActorKind = string;

export interface DrawnMachine {
  /** File name of its drawings under docs/machines/ (without extension). */
  readonly name: string;
  readonly title: string;
  /** Where the machine is defined, relative to the repository. */
  readonly source: string;
  readonly machine: AnyStateMachine;
}

export interface ServerMachine extends DrawnMachine {
  readonly kind: ActorKind;
}

/**
 * Live actors that a plane reports by being asked rather than step by step (e.g. the fanout worker's records
 * in flight): each one's key and dotted state path, and how many ended in each final state so far.
 */
export interface PolledActors {
  readonly items: ReadonlyArray<{ readonly key: string; readonly state: string }>;
  readonly ended: Readonly<Record<string, number>>;
}

/** Reports the actors of one kind on demand (the inspector's snapshot asks). */
export type PolledSource = () => PolledActors;
