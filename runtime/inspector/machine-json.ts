import type { AnyStateMachine } from "xstate";

/**
 * A machine's config — what was given to `createMachine` — as JSON: what Stately's editor imports and what
 * `createMachine(json)` turns back into a machine with the same states and transitions. Everything declared
 * as data stays (ids, states, `initial`, `type`, `on`, `after` and `always`, targets, named actions and guards
 * with their params, `meta`, `description`, `tags`); code cannot travel as JSON, so:
 *
 *   - an action made by one of XState's creators (`assign`, `raise`, …) becomes `{"type":"xstate.assign"}`;
 *   - any other inline function in an action or guard place becomes `{"type":"inline"}`;
 *   - any other function (a `context` computed from the actor's input, params computed per event, an
 *     `input` or `output` mapper) is left out.
 *
 * Key order follows the config, so the same machine always gives the same bytes.
 */
export function machineJson(machine: AnyStateMachine): unknown {
  return plain(machine.config, undefined);
}

/** Where a function stands for an action or a guard, and can be named instead. */
const NAMED_PLACES = new Set(["entry", "exit", "actions", "guard"]);

function plain(value: unknown, place: string | undefined): unknown {
  if (typeof value === "function") {
    if (place === undefined || !NAMED_PLACES.has(place)) return undefined;
    const type = (value as { type?: unknown }).type;
    return { type: typeof type === "string" ? type : "inline" };
  }
  // The items of a list stand where the list stands: `actions: [assign(…), "notify"]`.
  if (Array.isArray(value)) return value.map((item) => plain(item, place));
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(value)) {
    const converted = plain(child, name);
    if (converted !== undefined) copy[name] = converted;
  }
  return copy;
}
