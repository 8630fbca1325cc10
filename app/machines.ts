import { writeCycleMachine } from "../actors/chat-sequencer/write-cycle.machine.js";
import { connectionMachine } from "../actors/connection/connection.machine.js";
import { deliveryMachine } from "../actors/fanout/delivery.machine.js";
import { actorLifecycleMachine } from "../runtime/actor-lifecycle.machine.js";
import type { ServerMachine } from "../runtime/inspector/machine-catalog.js";

/** The machines whose actors run in a server process: drawn, served by the inspector, and counted live. */
export const SERVER_MACHINES: readonly ServerMachine[] = [
  {
    kind: "sequencer",
    name: "chat-sequencer-lifecycle",
    title: "Chat sequencer lifecycle",
    source: "runtime/actor-lifecycle.machine.ts",
    machine: actorLifecycleMachine,
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
