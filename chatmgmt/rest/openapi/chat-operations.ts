import { z } from "zod";
import { chatId, messageId, userId } from "../../schemas.js";
import {
  addMemberBody,
  createChatBody,
  idempotencyKeyHeaders,
  listQuery,
  muteBody,
  renameBody,
  roleBody,
} from "../chats.controller.js";
import { aroundQuery, historyQuery, sequenceParam } from "../messages.controller.js";
import { LIMITS } from "./account-operations.js";
import type { Operation } from "./operation.js";
import {
  Chat,
  ChatDetail,
  ChatListItem,
  ChatWithState,
  envelope,
  Member,
  Membership,
  Message,
  pagedEnvelope,
} from "./shapes.js";

const chatParams = z.object({ chatId });
const memberParams = z.object({ chatId, userId });
const mutedUntil = z.iso
  .datetime()
  .nullable()
  .meta({ description: "null: muted indefinitely or not muted." });

/** Chats, membership (spec §2, §2.1, §5) and history (spec §2.2). */
export const CHAT_OPERATIONS: readonly Operation[] = [
  {
    method: "post",
    path: "/api/v1/chats",
    operationId: "createChat",
    tag: "chats",
    summary: "Create a direct chat or a group",
    description:
      "`member_ids` excludes the caller. Direct: exactly one id, `name` ignored; the pair's existing chat " +
      "is answered with 200 and `X-Idempotent-Replay: true`. Group: 1-99 ids and a `name`; the caller " +
      "becomes its owner. With an `Idempotency-Key`, the same key and body replay the first answer; " +
      "another body is 409 IDEMPOTENCY_KEY_REUSED. 20 new groups per user per UTC day (GROUPS_CREATED_PER_DAY).",
    auth: "bearer",
    limit: LIMITS.write,
    headers: idempotencyKeyHeaders,
    body: { schema: createChatBody, required: true },
    successes: [
      { status: 201, description: "Created.", schema: envelope(ChatDetail) },
      {
        status: 200,
        description: "The direct chat of this pair existed already.",
        schema: envelope(ChatDetail),
        headers: ["X-Idempotent-Replay"],
      },
    ],
    errors: ["INVALID_OPERATION", "CHAT_FULL", "USER_NOT_FOUND", "IDEMPOTENCY_KEY_REUSED"],
  },
  {
    method: "get",
    path: "/api/v1/chats",
    operationId: "listChats",
    tag: "chats",
    summary: "The caller's chats, most recently updated first",
    auth: "bearer",
    limit: LIMITS.read,
    query: listQuery,
    successes: [{ status: 200, description: "One page.", schema: pagedEnvelope(ChatListItem) }],
    errors: [],
  },
  {
    method: "get",
    path: "/api/v1/chats/{chatId}",
    operationId: "getChat",
    tag: "chats",
    summary: "A chat with its members and the caller's state in it",
    auth: "bearer",
    limit: LIMITS.read,
    params: chatParams,
    successes: [{ status: 200, description: "The chat.", schema: envelope(ChatWithState) }],
    errors: ["NOT_A_MEMBER", "NOT_FOUND"],
  },
  {
    method: "patch",
    path: "/api/v1/chats/{chatId}",
    operationId: "renameChat",
    tag: "chats",
    summary: "Rename a group (owner or admin)",
    auth: "bearer",
    limit: LIMITS.write,
    params: chatParams,
    body: { schema: renameBody, required: true },
    successes: [{ status: 200, description: "The chat.", schema: envelope(Chat) }],
    errors: ["NOT_A_MEMBER", "FORBIDDEN", "NOT_FOUND", "INVALID_OPERATION"],
  },
  {
    method: "get",
    path: "/api/v1/chats/{chatId}/members",
    operationId: "listMembers",
    tag: "members",
    summary: "The members of a chat",
    auth: "bearer",
    limit: LIMITS.read,
    params: chatParams,
    successes: [{ status: 200, description: "Every member.", schema: envelope(z.array(Member)) }],
    errors: ["NOT_A_MEMBER", "NOT_FOUND"],
  },
  {
    method: "post",
    path: "/api/v1/chats/{chatId}/members",
    operationId: "addMember",
    tag: "members",
    summary: "Add a member to a group",
    description:
      "Owners and admins add members; only the owner adds admins. With an `Idempotency-Key`, the same key " +
      "and body replay the first answer (`X-Idempotent-Replay: true`).",
    auth: "bearer",
    limit: LIMITS.write,
    params: chatParams,
    headers: idempotencyKeyHeaders,
    body: { schema: addMemberBody, required: true },
    successes: [
      {
        status: 201,
        description: "Added (or replayed).",
        schema: envelope(z.strictObject({ ...Membership.shape, added_by: userId })),
        headers: ["X-Idempotent-Replay"],
      },
    ],
    errors: [
      "NOT_A_MEMBER",
      "FORBIDDEN",
      "NOT_FOUND",
      "USER_NOT_FOUND",
      "ALREADY_A_MEMBER",
      "INVALID_OPERATION",
      "CHAT_FULL",
      "IDEMPOTENCY_KEY_REUSED",
      "CONFLICT",
    ],
  },
  {
    method: "delete",
    path: "/api/v1/chats/{chatId}/members/{userId}",
    operationId: "removeMember",
    tag: "members",
    summary: "Remove a member from a group",
    description: "The owner removes anyone but themself; admins remove members. Use leave for yourself.",
    auth: "bearer",
    limit: LIMITS.write,
    params: memberParams,
    successes: [{ status: 204, description: "Removed." }],
    errors: ["NOT_A_MEMBER", "FORBIDDEN", "NOT_FOUND", "INVALID_OPERATION"],
  },
  {
    method: "patch",
    path: "/api/v1/chats/{chatId}/members/{userId}",
    operationId: "setMemberRole",
    tag: "members",
    summary: "Change a member's role (owner only)",
    auth: "bearer",
    limit: LIMITS.write,
    params: memberParams,
    body: { schema: roleBody, required: true },
    successes: [
      {
        status: 200,
        description: "The membership.",
        schema: envelope(z.strictObject({ ...Membership.shape, updated_by: userId })),
      },
    ],
    errors: ["NOT_A_MEMBER", "FORBIDDEN", "NOT_FOUND", "INVALID_OPERATION"],
  },
  {
    method: "post",
    path: "/api/v1/chats/{chatId}/leave",
    operationId: "leaveChat",
    tag: "members",
    summary: "Leave a group (not its owner)",
    auth: "bearer",
    limit: LIMITS.write,
    params: chatParams,
    successes: [{ status: 204, description: "Left." }],
    errors: ["NOT_A_MEMBER", "NOT_FOUND", "INVALID_OPERATION"],
  },
  {
    method: "post",
    path: "/api/v1/chats/{chatId}/mute",
    operationId: "muteChat",
    tag: "members",
    summary: "Mute a chat for the caller",
    description: "`duration_hours` 1-8760; absent or null mutes indefinitely.",
    auth: "bearer",
    limit: LIMITS.write,
    params: chatParams,
    body: { schema: muteBody, required: false },
    successes: [
      {
        status: 200,
        description: "Muted.",
        schema: envelope(z.strictObject({ chat_id: chatId, muted_until: mutedUntil })),
      },
    ],
    errors: ["NOT_A_MEMBER", "NOT_FOUND"],
  },
  {
    method: "post",
    path: "/api/v1/chats/{chatId}/unmute",
    operationId: "unmuteChat",
    tag: "members",
    summary: "Unmute a chat for the caller",
    auth: "bearer",
    limit: LIMITS.write,
    params: chatParams,
    successes: [
      {
        status: 200,
        description: "Unmuted.",
        schema: envelope(z.strictObject({ chat_id: chatId, muted_until: z.null() })),
      },
    ],
    errors: ["NOT_A_MEMBER", "NOT_FOUND"],
  },
  {
    method: "get",
    path: "/api/v1/chats/{chatId}/messages",
    operationId: "getMessages",
    tag: "messages",
    summary: "A chat's history, a page at a time",
    description:
      "Messages are sent only over the WebSocket. Newest first by default (`direction=backward`); " +
      "`before_sequence` and `after_sequence` are exclusive bounds and may be combined; `cursor` with " +
      "either bound is 400. Gaps in sequences are kept.",
    auth: "bearer",
    limit: LIMITS.read,
    params: chatParams,
    query: historyQuery,
    successes: [{ status: 200, description: "One page.", schema: pagedEnvelope(Message) }],
    errors: ["NOT_A_MEMBER", "NOT_FOUND"],
  },
  {
    method: "get",
    path: "/api/v1/chats/{chatId}/messages/around/{sequence}",
    operationId: "getMessagesAround",
    tag: "messages",
    summary: "Messages around one sequence",
    auth: "bearer",
    limit: LIMITS.read,
    params: z.object({ chatId, sequence: sequenceParam.min(1) }),
    query: aroundQuery,
    successes: [
      {
        status: 200,
        description: "The target and up to `context` messages on each side, ascending.",
        schema: envelope(
          z.strictObject({
            target_sequence: z.number().int(),
            messages: z.array(Message),
            has_more_before: z.boolean(),
            has_more_after: z.boolean(),
          }),
        ),
      },
    ],
    errors: ["NOT_A_MEMBER", "NOT_FOUND"],
  },
  {
    method: "get",
    path: "/api/v1/chats/{chatId}/messages/{messageRef}",
    operationId: "getMessage",
    tag: "messages",
    summary: "One message, by id or by sequence",
    auth: "bearer",
    limit: LIMITS.read,
    params: z.object({
      chatId,
      messageRef: z.union([messageId, z.string().regex(/^\d+$/)]).meta({
        description: "A message id (`msg_…`) or a sequence (digits).",
      }),
    }),
    successes: [{ status: 200, description: "The message.", schema: envelope(Message) }],
    errors: ["NOT_A_MEMBER", "NOT_FOUND"],
  },
];
