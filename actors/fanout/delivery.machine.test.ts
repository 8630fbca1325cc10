import { describe, expect, it } from "vitest";
import { createActor, type StateValue } from "xstate";
import { toDirectedGraph } from "xstate/graph";
import { type DeliveryEvent, deliveryMachine } from "./delivery.machine.js";
import { DeliveryCounters, DeliveryLifecycle } from "./delivery-lifecycle.js";

const lifecycle = () => new DeliveryLifecycle({ chatId: "chat_1", sequence: 7 });
const EVENT_TYPES: DeliveryEvent["type"][] = [
  "DUPLICATE",
  "POISON",
  "RESOLVE",
  "MEMBERS_RESOLVED",
  "NO_MEMBERS",
  "MEMBERS_UNAVAILABLE",
  "ROUTED",
  "NOBODY_ONLINE",
  "PUSHED",
];

const pathOf = (value: StateValue): string =>
  typeof value === "string"
    ? value
    : Object.entries(value)
        .map(([key, child]) => (child === undefined ? key : `${key}.${pathOf(child)}`))
        .join("");

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
    const edges = graph.children.flatMap((node) =>
      node.edges.map((edge) => `${node.stateNode.key}->${edge.target.path.join(".")}`),
    );
    expect(edges).toEqual([
      "received->resolving",
      "received->skipped.duplicate",
      "received->deadLettered",
      "resolving->routing",
      "resolving->skipped.no_members",
      "resolving->held",
      "routing->pushing",
      "routing->skipped.nobody_online",
      "pushing->done",
    ]);
  });

  it("steps exactly as an XState actor of the machine does, for every sequence of three events", () => {
    for (const a of EVENT_TYPES) {
      for (const b of EVENT_TYPES) {
        for (const c of EVENT_TYPES) {
          const actor = createActor(deliveryMachine, { input: { chatId: "chat_1", sequence: 1 } }).start();
          const record = lifecycle();
          for (const type of [a, b, c]) {
            // A finished actor takes no events (XState warns); the record must stay where it ended too.
            if (actor.getSnapshot().status === "active") actor.send({ type });
            record.send({ type });
            expect(record.path).toBe(pathOf(actor.getSnapshot().value));
          }
          actor.stop();
        }
      }
    }
  });

  it("ends done after the pushes of an online recipient were attempted", () => {
    const record = lifecycle();
    expect(record.send({ type: "RESOLVE" })).toBe("resolving");
    expect(record.send({ type: "MEMBERS_RESOLVED" })).toBe("routing");
    expect(record.send({ type: "ROUTED" })).toBe("pushing");
    expect(record.send({ type: "PUSHED" })).toBe("done");
    expect(record.skipReason).toBeUndefined();
  });

  it("skips with a reason: a replayed sequence, a chat without members, nobody online", () => {
    const counters = new DeliveryCounters();
    const duplicate = lifecycle();
    duplicate.send({ type: "DUPLICATE" });
    const empty = lifecycle();
    empty.send({ type: "RESOLVE" });
    empty.send({ type: "NO_MEMBERS" });
    const offline = lifecycle();
    offline.send({ type: "RESOLVE" });
    offline.send({ type: "MEMBERS_RESOLVED" });
    offline.send({ type: "NOBODY_ONLINE" });
    for (const record of [duplicate, empty, offline]) {
      expect(record.state).toBe("skipped");
      counters.record(record);
    }
    expect(counters.skipped).toEqual({ duplicate: 1, no_members: 1, nobody_online: 1 });
    expect(counters.ended.skipped).toBe(3);
    expect(counters.ended.done).toBe(0);
  });

  it("holds a record whose members cannot be read; a final state ignores anything else", () => {
    const record = lifecycle();
    record.send({ type: "RESOLVE" });
    expect(record.send({ type: "MEMBERS_UNAVAILABLE" })).toBe("held");
    expect(record.send({ type: "PUSHED" })).toBe("held");
  });
});
