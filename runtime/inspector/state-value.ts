/**
 * XState state values (`"closing"`, `{ ready: "idle" }`, `{ established: { liveness: "alive", flow: "slow" } }`)
 * as the dotted paths the diagrams name their states by.
 */
export type StateValueLike = string | { readonly [key: string]: StateValueLike | undefined };

/** Every active state node: each leaf and its ancestors (`ready`, `ready.idle`), parents first. */
export function activePaths(value: StateValueLike, prefix = ""): string[] {
  if (typeof value === "string") return [`${prefix}${value}`];
  const paths: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = `${prefix}${key}`;
    paths.push(path);
    if (child !== undefined && !(typeof child === "object" && Object.keys(child).length === 0)) {
      paths.push(...activePaths(child, `${path}.`));
    }
  }
  return paths;
}

/** The active leaves only, joined: `ready.idle`, or `established.liveness.alive, established.flow.normal`. */
export function describeState(value: StateValueLike): string {
  const paths = activePaths(value);
  const leaves = paths.filter((path) => !paths.some((other) => other.startsWith(`${path}.`)));
  return leaves.join(", ");
}

/** A dotted path and its ancestors: `skipped.duplicate` → `skipped`, `skipped.duplicate`. */
export function pathAndAncestors(path: string): string[] {
  const parts = path.split(".");
  return parts.map((_, index) => parts.slice(0, index + 1).join("."));
}
