import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { AppError } from "../errors.js";
import { readJsonBody, sendJson } from "../http/json.js";
import { pathOf, type Route } from "../http/server.js";
import type { RingAdmin, RingPlan, RingStatus } from "./ring-admin.js";
import { RING_CHANGE_KINDS, type RingChange, type RingConfig } from "./ring-config.js";

/**
 * The operator interface over REST (`npm run ring` is a client of it), behind `Authorization: Bearer
 * <ADMIN_TOKEN>`:
 *
 *   GET  /admin/ring            the ring: members, liveness, shares, handoff progress
 *   GET  /admin/ring/owner?chat_id=…   the node that owns a chat now
 *   POST /admin/ring/plan       {kind, node_id, weight?}: what the change would move, changing nothing
 *   POST /admin/ring/changes    {kind, node_id, weight?}: apply it (a new version); follow GET until settled
 *
 * `kind` is add, remove, drain, activate or weight. Bodies and answers are snake_case like the REST API.
 */
const ADMIN_RING_PATH = "/admin/ring";

export function ringAdminRoute(admin: RingAdmin, adminToken: string | undefined): Route {
  return async (request, response, requestId) => {
    const path = pathOf(request);
    if (path !== ADMIN_RING_PATH && !path.startsWith(`${ADMIN_RING_PATH}/`)) return false;
    authorize(request, adminToken);
    if (path === ADMIN_RING_PATH && request.method === "GET") {
      sendJson(response, 200, { data: statusJson(await admin.status()) }, requestId);
      return true;
    }
    if (path === `${ADMIN_RING_PATH}/owner` && request.method === "GET") {
      const chatId = new URL(request.url ?? "/", "http://localhost").searchParams.get("chat_id");
      if (chatId === null || chatId === "") {
        throw new AppError("VALIDATION_ERROR", "chat_id is required", { details: { field: "chat_id" } });
      }
      const owner = await admin.ownerOf(chatId);
      sendJson(
        response,
        200,
        { data: { chat_id: owner.chatId, owner: owner.owner, version: owner.version } },
        requestId,
      );
      return true;
    }
    if (path === `${ADMIN_RING_PATH}/plan` && request.method === "POST") {
      const change = parseChange(await readJsonBody(request));
      sendJson(response, 200, { data: planJson(await admin.plan(change)) }, requestId);
      return true;
    }
    if (path === `${ADMIN_RING_PATH}/changes` && request.method === "POST") {
      const change = parseChange(await readJsonBody(request));
      const config = await admin.apply(change);
      sendJson(
        response,
        200,
        { data: { ...configJson(config), status: statusJson(await admin.status()) } },
        requestId,
      );
      return true;
    }
    throw new AppError("NOT_FOUND", `no admin route for ${request.method} ${path}`);
  };
}

function authorize(request: IncomingMessage, adminToken: string | undefined): void {
  if (adminToken === undefined) {
    throw new AppError("FORBIDDEN", "the admin API is disabled on this node: set ADMIN_TOKEN to enable it");
  }
  const header = request.headers.authorization ?? "";
  const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
  const expected = Buffer.from(adminToken);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AppError(
      "UNAUTHORIZED",
      "a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)",
    );
  }
}

function parseChange(body: Record<string, unknown>): RingChange {
  const { kind, node_id: nodeId, weight } = body;
  if (typeof kind !== "string" || !(RING_CHANGE_KINDS as readonly string[]).includes(kind)) {
    throw new AppError("VALIDATION_ERROR", `kind must be one of ${RING_CHANGE_KINDS.join(", ")}`, {
      details: { field: "kind" },
    });
  }
  if (typeof nodeId !== "string") {
    throw new AppError("VALIDATION_ERROR", "node_id is required", { details: { field: "node_id" } });
  }
  if (weight !== undefined && typeof weight !== "number") {
    throw new AppError("VALIDATION_ERROR", "weight must be a number", { details: { field: "weight" } });
  }
  switch (kind as RingChange["kind"]) {
    case "add":
      return weight === undefined ? { kind: "add", nodeId } : { kind: "add", nodeId, weight };
    case "weight":
      if (weight === undefined) {
        throw new AppError("VALIDATION_ERROR", "weight is required", { details: { field: "weight" } });
      }
      return { kind: "weight", nodeId, weight };
    case "remove":
      return { kind: "remove", nodeId };
    case "drain":
      return { kind: "drain", nodeId };
    case "activate":
      return { kind: "activate", nodeId };
  }
}

const configJson = (config: RingConfig) => ({
  version: config.version,
  updated_at: config.updatedAt,
  members: config.members.map((m) => ({ node_id: m.nodeId, weight: m.weight, state: m.state })),
});

const statusJson = (status: RingStatus) => ({
  version: status.version,
  updated_at: status.updatedAt,
  settled: status.settled,
  members: status.members.map((m) => ({
    node_id: m.nodeId,
    weight: m.weight,
    state: m.state,
    live: m.live,
    address: m.address,
    share: m.share,
    applied_version: m.appliedVersion,
    active_actors: m.activeActors,
    handoffs_pending: m.handoffsPending,
  })),
  unassigned: status.unassigned.map((n) => ({ node_id: n.nodeId, address: n.address })),
});

const planJson = (plan: RingPlan) => ({
  change: {
    kind: plan.change.kind,
    node_id: plan.change.nodeId,
    ...("weight" in plan.change ? { weight: plan.change.weight } : {}),
  },
  from_version: plan.fromVersion,
  members: plan.members.map((m) => ({ node_id: m.nodeId, weight: m.weight, state: m.state })),
  chats: plan.chats,
  sampled: plan.sampled,
  chats_moved: plan.chatsMoved,
  moves: plan.moves.map((m) => ({ node_id: m.nodeId, gained: m.gained, lost: m.lost })),
  active_actors_moved_estimate: plan.activeActorsMovedEstimate,
});
