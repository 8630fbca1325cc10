import { describe, expect, it } from "vitest";
import { createActor, type StateValue } from "xstate";
import { toDirectedGraph } from "xstate/graph";
import { machineGraph, transitionLabel } from "../../runtime/inspector/machine-graph.js";
import {
  DELIVERY_ACTIONS,
  type DeliveryAction,
  type DeliveryEvent,
  deliveryMachine,
} from "./delivery.machine.js";
import { DeliveryCounters, type DeliveryEffects, DeliveryLifecycle } from "./delivery-lifecycle.js";

/** Every outcome the worker reports, with each value the guards tell apart. */
const EVENTS: DeliveryEvent[] = [
  { type: "CONSUMED", poison: false, seen: false },
  { type: "CONSUMED", poison: false, seen: true },
  { type: "CONSUMED", poison: true, seen: false },
  { type: "MEMBERS", count: 0 },
  { type: "MEMBERS", count: 3 },
  { type: "MEMBERS_UNAVAILABLE" },
  { type: "ROUTING_UNAVAILABLE" },
  { type: "ROUTES", gateways: 0 },
  { type: "ROUTES", gateways: 2 },
  { type: "PUSHED" },
];

const pathOf = (value: StateValue): string =>
  typeof value === "string"
    ? value
    : Object.entries(value)
        .map(([key, child]) => (child === undefined ? key : `${key}.${pathOf(child)}`))
        .join("");

/** A record whose effects only note what the machine asked for. */
function recorded() {
  const asked: DeliveryAction[] = [];
  const effects = Object.fromEntries(
    DELIVERY_ACTIONS.map((action) => [action, () => void asked.push(action)]),
  ) as unknown as DeliveryEffects<{ chatId: string; sequence: number }>;
  const record = new DeliveryLifecycle({ chatId: "chat_1", sequence: 7 }, effects);
  return { record, asked };
}

describe("the delivery lifecycle machine", () => {
  it("can be drawn: received -> resolving -> routing -> pushing -> done, and every way out", () => {
    const graph = toDirectedGraph(deliveryMachine);
    expect(graph.children.map((node) => node.stateNode.key)).toEqual([
      "received",
      "resolving",
      "routing",
      "pushing",
      "done",
      "skipped",
      "deadLettered",
      "held",
    ]);
    const { transitions } = machineGraph(deliveryMachine);
    const edges = transitions.map(
      (transition) =>
        `${transition.source.replace("delivery.", "")} -> ${transition.target.replace("delivery.", "")}: ${transitionLabel(transition)}${transition.targetless ? " (no target)" : ""}`,
    );
    expect(edges).toEqual([
      "received -> deadLettered: CONSUMED [poison]",
      "received -> skipped.duplicate: CONSUMED [alreadyPushed]",
      "received -> resolving: CONSUMED",
      "resolving -> skipped.no_members: MEMBERS [noMembers]",
      "resolving -> routing: MEMBERS",
      "resolving -> held: MEMBERS_UNAVAILABLE",
      "routing -> routing: ROUTING_UNAVAILABLE (no target)",
      "routing -> skipped.nobody_online: ROUTES [nobodyOnline]",
      "routing -> pushing: ROUTES",
      "pushing -> done: PUSHED",
    ]);
  });

  it("steps and asks for the same actions as an XState actor of the machine, for every sequence of three outcomes", () => {
    for (const a of EVENTS) {
      for (const b of EVENTS) {
        for (const c of EVENTS) {
          const actorAsked: string[] = [];
          const implementations = Object.fromEntries(
            DELIVERY_ACTIONS.map((action) => [action, () => actorAsked.push(action)]),
          );
          const actor = createActor(deliveryMachine.provide({ actions: implementations })).start();
          const { record, asked } = recorded();
          for (const event of [a, b, c]) {
            // A finished actor takes no events (XState warns); the record must stay where it ended too.
            if (actor.getSnapshot().status === "active") actor.send(event);
            record.send(event);
            expect(record.path).toBe(pathOf(actor.getSnapshot().value));
            expect(asked).toEqual(actorAsked);
          }
          actor.stop();
        }
      }
    }
  });

  it("asks to read the members, look up routes and push; a pushed record ends done and is remembered", () => {
    const { record, asked } = recorded();
    expect(record.send({ type: "CONSUMED", poison: false, seen: false })).toBe("resolving");
    expect(record.send({ type: "MEMBERS", count: 2 })).toBe("routing");
    expect(record.send({ type: "ROUTES", gateways: 1 })).toBe("pushing");
    expect(record.send({ type: "PUSHED" })).toBe("done");
    expect(asked).toEqual(["resolveMembers", "lookUpRoutes", "push", "remember"]);
    expect(record.skipReason).toBeUndefined();
  });

  it("broadcasts a record whose routes cannot be read, then pushes to the gateways that answered", () => {
    const { record, asked } = recorded();
    record.send({ type: "CONSUMED", poison: false, seen: false });
    record.send({ type: "MEMBERS", count: 2 });
    expect(record.send({ type: "ROUTING_UNAVAILABLE" })).toBe("routing");
    expect(record.send({ type: "ROUTES", gateways: 3 })).toBe("pushing");
    expect(asked).toEqual(["resolveMembers", "lookUpRoutes", "broadcast", "push"]);
  });

  it("skips with a reason, and remembers: a replayed sequence, a chat without members, nobody online", () => {
    const counters = new DeliveryCounters();
    const duplicate = recorded();
    duplicate.record.send({ type: "CONSUMED", poison: false, seen: true });
    const empty = recorded();
    empty.record.send({ type: "CONSUMED", poison: false, seen: false });
    empty.record.send({ type: "MEMBERS", count: 0 });
    const offline = recorded();
    offline.record.send({ type: "CONSUMED", poison: false, seen: false });
    offline.record.send({ type: "MEMBERS", count: 4 });
    offline.record.send({ type: "ROUTES", gateways: 0 });
    for (const { record, asked } of [duplicate, empty, offline]) {
      expect(record.state).toBe("skipped");
      expect(asked.at(-1)).toBe("remember");
      expect(asked).not.toContain("push");
      counters.record(record);
    }
    expect(counters.skipped).toEqual({ duplicate: 1, no_members: 1, nobody_online: 1 });
    expect(counters.ended.skipped).toBe(3);
    expect(counters.ended.done).toBe(0);
  });

  it("dead-letters a poison record, even one whose sequence looks seen", () => {
    const { record, asked } = recorded();
    expect(record.send({ type: "CONSUMED", poison: true, seen: true })).toBe("deadLettered");
    expect(asked).toEqual(["deadLetter"]);
  });

  it("holds the batch of a record whose members cannot be read; a final state ignores anything else", () => {
    const { record, asked } = recorded();
    record.send({ type: "CONSUMED", poison: false, seen: false });
    expect(record.send({ type: "MEMBERS_UNAVAILABLE" })).toBe("held");
    expect(record.send({ type: "PUSHED" })).toBe("held");
    expect(asked).toEqual(["resolveMembers", "holdBatch"]);
  });
});
