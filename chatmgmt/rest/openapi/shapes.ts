import { z } from "zod";
import { MAX_SEQUENCE } from "../../../runtime/ids.js";
import { CHAT_TYPES, MEMBER_ROLES } from "../../../runtime/ports/chat-store.js";
import { CONTENT_TYPES } from "../../../runtime/ports/message-store.js";
import { MAX_CONTENT_BYTES } from "../../../runtime/protocol-limits.js";
import { chatId, deviceId, messageId, phoneNumber, userId } from "../../schemas.js";

/**
 * The JSON shapes REST answers with (spec §2), as zod schemas for the OpenAPI document. They validate nothing
 * at run time: `views.ts` builds every answer and its functions are typed by these schemas, so a field added
 * to a view and not here (or the other way round) fails the type check.
 */
const timestamp = z.iso
  .datetime()
  .meta({ description: "ISO-8601 UTC with milliseconds.", example: "2026-01-31T10:30:00.000Z" });
const sequence = z.number().int().min(0).max(MAX_SEQUENCE);
const sessionId = z
  .string()
  .meta({ pattern: "^sess_[0-9A-HJKMNP-TV-Z]{26}$", example: "sess_01HQX3M6Z8V2K9W4T7R5N1B0CG" });
const role = z.enum(MEMBER_ROLES);

export const User = z
  .strictObject({
    user_id: userId,
    phone_number: phoneNumber,
    display_name: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "User", description: "The caller's own profile." });

export const PublicUser = z
  .strictObject({ user_id: userId, display_name: z.string().nullable(), created_at: timestamp })
  .meta({ id: "PublicUser", description: "What anyone signed in may see of a user." });

const chatFields = {
  chat_id: chatId,
  type: z.enum(CHAT_TYPES),
  name: z.string().nullable().meta({ description: "Groups only; null for direct chats." }),
  created_at: timestamp,
  updated_at: timestamp,
  member_count: z.number().int().min(1),
};

export const Chat = z
  .strictObject({ ...chatFields, created_by: userId })
  .meta({ id: "Chat", description: "A chat (spec §2 C)." });

export const Member = z
  .strictObject({ user_id: userId, role, display_name: z.string().nullable(), joined_at: timestamp })
  .meta({ id: "Member" });

export const ChatDetail = z
  .strictObject({ ...Chat.shape, members: z.array(Member) })
  .meta({ id: "ChatDetail", description: "A chat with its members (spec §2 D)." });

export const ChatWithState = z
  .strictObject({
    ...Chat.shape,
    members: z.array(
      z.strictObject({
        ...Member.shape,
        last_acked_sequence: sequence.meta({
          description: "How far this member's devices acknowledged the chat (the delivered tick).",
        }),
      }),
    ),
    current_sequence: sequence,
    my_membership: z.strictObject({
      role,
      joined_at: timestamp,
      muted_until: timestamp.nullable(),
      last_acked_sequence: sequence,
    }),
  })
  .meta({ id: "ChatWithState", description: "A chat with its members and the caller's state in it." });

export const ChatListItem = z
  .strictObject({
    ...chatFields,
    my_membership: z.strictObject({ role, joined_at: timestamp, muted_until: timestamp.nullable() }),
    last_message: z
      .strictObject({
        message_id: messageId,
        sequence,
        sender_id: userId,
        content_preview: z.string().meta({ description: "The first 100 characters of the content." }),
        created_at: timestamp,
      })
      .nullable(),
    pending_ack_count: z.number().int().min(0),
    other_member: z
      .strictObject({ user_id: userId, display_name: z.string().nullable() })
      .optional()
      .meta({ description: "Direct chats only: the other member." }),
  })
  .meta({ id: "ChatListItem" });

export const Membership = z
  .strictObject({
    chat_id: chatId,
    user_id: userId,
    role,
    display_name: z.string().nullable(),
    joined_at: timestamp,
  })
  .meta({ id: "Membership", description: "One member of one chat (spec §2 M)." });

export const Message = z
  .strictObject({
    message_id: messageId,
    chat_id: chatId,
    sequence: sequence.min(1),
    sender_id: userId,
    content: z.string().meta({ "x-max-bytes": MAX_CONTENT_BYTES }),
    // A string on the wire type (runtime/message-wire.ts); the values it may take are listed here.
    content_type: z.string().meta({ enum: [...CONTENT_TYPES] }),
    created_at: timestamp,
    sender: z.strictObject({ user_id: userId, display_name: z.string().nullable() }),
  })
  .meta({
    id: "Message",
    description: "A stored message: the WebSocket `message` push plus `sender`.",
  });

export const Session = z
  .strictObject({
    session_id: sessionId,
    device_id: deviceId,
    created_at: timestamp,
    last_active_at: timestamp,
    expires_at: timestamp,
    is_current: z.boolean(),
  })
  .meta({ id: "Session" });

export const Tokens = z
  .strictObject({
    access_token: z.string().meta({ description: "An RS256 JWT; send it as `Authorization: Bearer`." }),
    refresh_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().meta({ description: "Seconds until the access token expires." }),
  })
  .meta({ id: "Tokens" });

export const Pagination = z
  .strictObject({
    has_more: z.boolean(),
    next_cursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page." }),
    prev_cursor: z.null(),
  })
  .meta({ id: "Pagination" });

export const Login = z
  .strictObject({
    user: z.strictObject({
      user_id: userId,
      phone_number: phoneNumber,
      display_name: z.string().nullable(),
      created_at: timestamp,
    }),
    session: z.strictObject({
      session_id: sessionId,
      device_id: deviceId,
      created_at: timestamp,
      expires_at: timestamp,
    }),
    tokens: Tokens,
    is_new_user: z.boolean(),
  })
  .meta({ id: "Login" });

export const DeliveryState = z
  .strictObject({
    chat_id: chatId,
    last_acked_sequence: sequence,
    current_sequence: sequence,
    unread_count: z.number().int().min(0),
    updated_at: timestamp.nullable(),
  })
  .meta({ id: "DeliveryState" });

/** A success: `{data}`, lists with `pagination` (spec §1). */
export const envelope = <T extends z.ZodType>(data: T) => z.strictObject({ data });
export const pagedEnvelope = <T extends z.ZodType>(item: T) =>
  z.strictObject({ data: z.array(item), pagination: Pagination });

export const ApiRoot = z
  .strictObject({
    version: z.string().meta({ description: "The version of the REST contract.", example: "1.0.0" }),
    api_version: z.literal("v1"),
    capabilities: z.strictObject({
      max_message_size_bytes: z.number().int(),
      max_chat_members: z.number().int(),
      max_chats_per_user: z.number().int(),
      supported_content_types: z.array(z.string()),
      auth_methods: z.array(z.string()),
      websocket_protocol_version: z.number().int(),
    }),
    documentation_url: z.string().nullable(),
  })
  .meta({
    id: "ApiRoot",
    description: "What a client may rely on, from the limits this deployment enforces.",
  });

export const Jwks = z
  .strictObject({
    keys: z.array(
      z.object({
        kty: z.literal("RSA"),
        kid: z.string(),
        alg: z.literal("RS256"),
        use: z.literal("sig"),
        n: z.string(),
        e: z.string(),
      }),
    ),
  })
  .meta({ id: "Jwks", description: "A JSON Web Key Set (RFC 7517)." });
