import type { AnyStateMachine } from "xstate";
import { sequencerLifecycleMachine } from "../../actors/chat-sequencer/lifecycle.machine.js";
import { writeCycleMachine } from "../../actors/chat-sequencer/write-cycle.machine.js";
import { connectionMachine } from "../../actors/connection/connection.machine.js";
import { deliveryMachine } from "../../actors/fanout/delivery.machine.js";

/** What kind of live actor a machine models in a running process (the inspector counts them). */
export const ACTOR_KINDS = ["sequencer", "write", "connection", "delivery"] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

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

/** The machines whose actors run in a server process: drawn, and counted live by the inspector. */
export const SERVER_MACHINES: readonly ServerMachine[] = [
  {
    kind: "sequencer",
    name: "chat-sequencer-lifecycle",
    title: "Chat sequencer lifecycle",
    source: "actors/chat-sequencer/lifecycle.machine.ts",
    machine: sequencerLifecycleMachine,
  },
  {
    kind: "write",
    name: "chat-sequencer-write-cycle",
    title: "Chat sequencer write cycle (D16)",
    source: "actors/chat-sequencer/write-cycle.machine.ts",
    machine: writeCycleMachine,
  },
  {
    kind: "connection",
    name: "connection",
    title: "Connection lifecycle",
    source: "actors/connection/connection.machine.ts",
    machine: connectionMachine,
  },
  {
    kind: "delivery",
    name: "delivery",
    title: "Delivery lifecycle",
    source: "actors/fanout/delivery.machine.ts",
    machine: deliveryMachine,
  },
];
