import { AppError } from "../errors.js";

/**
 * The durable ring configuration (D5): which ingest nodes may own chats, with what weight, and whether they
 * are `active` (own their share) or `draining` (own nothing; finishing their handoffs). Operators change it;
 * every change is a new `version`, written with a conditional update on the previous one, so two operators
 * racing never lose a change silently. Chats are placed over the members that are active AND live.
 */
export const MEMBER_STATES = ["active", "draining"] as const;
export type MemberState = (typeof MEMBER_STATES)[number];

export interface RingMember {
  readonly nodeId: string;
  /** Relative share of chats; equal weights give equal shares. */
  readonly weight: number;
  readonly state: MemberState;
}

export interface RingConfig {
  /** 0 = never written; every change adds one. */
  readonly version: number;
  /** Ordered by node id. */
  readonly members: readonly RingMember[];
  readonly updatedAt: number;
}

export const EMPTY_RING: RingConfig = { version: 0, members: [], updatedAt: 0 };
export const DEFAULT_WEIGHT = 100;
export const MAX_WEIGHT = 10_000;
export const NODE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** A change an operator (or a node joining) asks for. */
export type RingChange =
  | { readonly kind: "add"; readonly nodeId: string; readonly weight?: number }
  | { readonly kind: "remove"; readonly nodeId: string }
  | { readonly kind: "drain"; readonly nodeId: string }
  | { readonly kind: "activate"; readonly nodeId: string }
  | { readonly kind: "weight"; readonly nodeId: string; readonly weight: number };

export const RING_CHANGE_KINDS = ["add", "remove", "drain", "activate", "weight"] as const;

const byNodeId = (a: RingMember, b: RingMember): number =>
  a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0;

function checkNodeId(nodeId: string): void {
  if (!NODE_ID_PATTERN.test(nodeId)) {
    throw new AppError("VALIDATION_ERROR", "node id must be 1-64 letters, digits, `.`, `_` or `-`", {
      details: { field: "node_id" },
    });
  }
}

function checkWeight(weight: number): void {
  if (!Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
    throw new AppError("VALIDATION_ERROR", `weight must be an integer from 1 to ${MAX_WEIGHT}`, {
      details: { field: "weight", min: 1, max: MAX_WEIGHT },
    });
  }
}

function find(config: RingConfig, nodeId: string): RingMember {
  const member = config.members.find((m) => m.nodeId === nodeId);
  if (member === undefined) {
    throw new AppError("NOT_FOUND", `node ${nodeId} is not a member of the ring`, {
      details: { node_id: nodeId, members: config.members.map((m) => m.nodeId) },
    });
  }
  return member;
}

/**
 * The members after `change`, or an AppError when the change is unsafe or meaningless: an unknown node, a
 * node added twice, or a change that would leave no active member (nothing could own a chat any more).
 */
export function applyChange(config: RingConfig, change: RingChange): RingMember[] {
  checkNodeId(change.nodeId);
  const others = config.members.filter((m) => m.nodeId !== change.nodeId);
  let next: RingMember[];
  switch (change.kind) {
    case "add": {
      const weight = change.weight ?? DEFAULT_WEIGHT;
      checkWeight(weight);
      if (others.length !== config.members.length) {
        throw new AppError("CONFLICT", `node ${change.nodeId} is already a member of the ring`, {
          details: { node_id: change.nodeId },
        });
      }
      next = [...others, { nodeId: change.nodeId, weight, state: "active" }];
      break;
    }
    case "remove":
      find(config, change.nodeId);
      next = others;
      break;
    case "drain":
      next = [...others, { ...find(config, change.nodeId), state: "draining" }];
      break;
    case "activate":
      next = [...others, { ...find(config, change.nodeId), state: "active" }];
      break;
    case "weight":
      checkWeight(change.weight);
      next = [...others, { ...find(config, change.nodeId), weight: change.weight }];
      break;
    default: {
      const unknown: never = change;
      throw new AppError("VALIDATION_ERROR", `unknown ring change ${JSON.stringify(unknown)}`);
    }
  }
  const wasActive = config.members.some((m) => m.state === "active");
  if (wasActive && !next.some((m) => m.state === "active")) {
    throw new AppError("CONFLICT", `refused: after this change no active node would own chats`, {
      details: { node_id: change.nodeId, change: change.kind },
    });
  }
  return next.sort(byNodeId);
}

/** The members that own chats: active ones among the live ingest nodes. */
export function ownersOf(config: RingConfig, live: ReadonlySet<string>): RingMember[] {
  return config.members.filter((m) => m.state === "active" && live.has(m.nodeId));
}
