import { z } from "zod";
import { isChatId, isMessageId, isUserId } from "../runtime/ids.js";

/** The input rules of spec §1 shared by REST and gRPC. */
export const phoneNumber = z
  .string({ error: "phone_number is required" })
  .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number such as +14155550123");
export const otpCode = z.string({ error: "otp is required" }).regex(/^\d{6}$/, "must be 6 digits");
export const deviceId = z
  .string({ error: "device_id is required" })
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, "1-128 letters, digits, `.`, `_`, `:`, `-`");
export const userId = z
  .string({ error: "a user id is required" })
  .refine(isUserId, "must be a user id (user_…)");
export const chatId = z.string().refine(isChatId, "must be a chat id (chat_…)");
export const messageId = z.string().refine(isMessageId, "must be a message id (msg_…)");
// Control characters are refused in names shown to other users.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const noControl = /^[^\u0000-\u001f\u007f]*$/;
export const displayName = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(64, "at most 64 characters")
  .regex(noControl, "must not contain control characters");
export const chatName = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(128, "at most 128 characters")
  .regex(noControl, "must not contain control characters");
export const assignableRole = z.enum(["member", "admin"], { error: "must be member or admin" });
export const uuidLike = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "8-64 letters, digits, `_`, `-` (a UUID)");
