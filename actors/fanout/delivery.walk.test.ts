import { describe, expect, it } from "vitest";
import { walkMachine } from "../../test/support/machine-walk.js";
import { deliveryMachine } from "./delivery.machine.js";

describe("the drawn delivery machine", () => {
  it("takes every drawn transition on a real actor, and no other", () => {
    const walk = walkMachine({
      machine: deliveryMachine,
      events: {
        CONSUMED: [
          { type: "CONSUMED", poison: false, seen: false },
          { type: "CONSUMED", poison: false, seen: true },
          { type: "CONSUMED", poison: true, seen: false },
        ],
        MEMBERS: [
          { type: "MEMBERS", count: 0 },
          { type: "MEMBERS", count: 2 },
        ],
        ROUTES: [
          { type: "ROUTES", gateways: 0 },
          { type: "ROUTES", gateways: 1 },
        ],
      },
    });
    expect(walk.untaken, "drawn transitions no path takes").toEqual([]);
    expect(walk.undrawn, "transitions taken that the drawing lacks").toEqual([]);
    expect(walk.taken.size).toBe(10);
    expect(walk.taken.get("delivery.routing -> delivery.pushing: ROUTES")).toEqual([
      'CONSUMED {"poison":false,"seen":false}',
      'MEMBERS {"count":2}',
      'ROUTES {"gateways":1}',
    ]);
  });
});

describe("the machine walk", () => {
  it("reports a drawn transition that the events it is given cannot take", () => {
    const walk = walkMachine({
      machine: deliveryMachine,
      // No chat without members and nobody offline: the guards' other branches are never reached.
      events: {
        CONSUMED: [{ type: "CONSUMED", poison: false, seen: false }],
        MEMBERS: [{ type: "MEMBERS", count: 2 }],
        ROUTES: [{ type: "ROUTES", gateways: 1 }],
      },
    });
    expect(walk.untaken).toEqual([
      "delivery.received -> delivery.deadLettered: CONSUMED [poison]",
      "delivery.received -> delivery.skipped.duplicate: CONSUMED [alreadyPushed]",
      "delivery.resolving -> delivery.skipped.no_members: MEMBERS [noMembers]",
      "delivery.routing -> delivery.skipped.nobody_online: ROUTES [nobodyOnline]",
    ]);
  });
});
