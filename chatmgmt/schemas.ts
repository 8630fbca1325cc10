import { z } from "zod";
import { DEVICE_ID_PATTERN, MAX_DEVICE_ID_LENGTH } from "../runtime/device-id.js";
import { isChatId, isMessageId, isUserId } from "../runtime/ids.js";

/** The input rules of spec §1 shared by REST and gRPC. */
export const phoneNumber = z
  .string({ error: "phone_number is required" })
  .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number such as +14155550123")
  .meta({ id: "PhoneNumber", description: "An E.164 phone number.", example: "+14155550123" });
export const otpCode = z.string({ error: "otp is required" }).regex(/^\d{6}$/, "must be 6 digits");
export const deviceId = z
  .string({ error: "device_id is required" })
  .regex(DEVICE_ID_PATTERN, `1-${MAX_DEVICE_ID_LENGTH} letters, digits, \`.\`, \`_\`, \`:\`, \`-\``)
  .meta({ id: "DeviceId", description: "A stable id of the client device (a UUIDv4 in practice)." });

/**
 * The prefixed ULIDs of spec §1. They are checked by `runtime/ids.ts` (a refinement, which JSON Schema cannot
 * see), so the documents of the API (`GET /api/v1/openapi.json`) are told the same rule as a pattern.
 */
const prefixedUlid = (id: string, prefix: string, example: string) => ({
  id,
  pattern: `^${prefix}[0-9A-HJKMNP-TV-Z]{26}$`,
  description: `\`${prefix}\` followed by a ULID.`,
  example: `${prefix}${example}`,
});
export const userId = z
  .string({ error: "a user id is required" })
  .refine(isUserId, "must be a user id (user_…)")
  .meta(prefixedUlid("UserId", "user_", "01HQX3M6Z8V2K9W4T7R5N1B0CD"));
export const chatId = z
  .string()
  .refine(isChatId, "must be a chat id (chat_…)")
  .meta(prefixedUlid("ChatId", "chat_", "01HQX3M6Z8V2K9W4T7R5N1B0CE"));
export const messageId = z
  .string()
  .refine(isMessageId, "must be a message id (msg_…)")
  .meta(prefixedUlid("MessageId", "msg_", "01HQX3M6Z8V2K9W4T7R5N1B0CF"));
// C0/C1 control characters and the line/paragraph separators are refused in names shown to other users
// (spec §1: "no control chars").
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Invisible format characters (Unicode category Cf) are refused in names too: bidi embeddings, overrides
 * and isolates (U+202A–U+202E, U+2066–U+2069) reorder what follows them, so `evil\u202Egnp.exe` shows as
 * `evilexe.png`, and zero-width characters (U+200B–U+200F, U+2060, U+FEFF, U+180E, tags...) make two names
 * that look identical differ, which is what impersonation needs. The spec asks for trimmed names without
 * control characters and says nothing of stripping, so they are refused (VALIDATION_ERROR) rather than
 * silently changed. Emoji stay allowed, including the two places emoji need a format character: a
 * zero-width joiner between two pictographs (👩‍💻, 🏳️‍🌈, 👩🏽‍🚀), and the tag sequence of a subdivision flag
 * (🏴 followed by tag letters and CANCEL TAG).
 */
const EMOJI_ZWJ =
  /(?<=\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]?)\u200D(?=\p{Extended_Pictographic})/gu;
const EMOJI_TAG_SEQUENCE = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}/gu;
const FORMAT_CHARACTER = /\p{Cf}/u;

/** Whether `text` holds a format character outside the emoji sequences that need one. */
function hasHiddenFormatting(text: string): boolean {
  return FORMAT_CHARACTER.test(text.replace(EMOJI_TAG_SEQUENCE, "").replace(EMOJI_ZWJ, ""));
}

const visibleName = (maxLength: number) =>
  z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(maxLength, `at most ${maxLength} characters`)
    .refine((name) => !CONTROL.test(name), {
      message: "must not contain control characters",
      params: { code: "INVALID_CHARACTERS" },
    })
    .refine((name) => !hasHiddenFormatting(name), {
      message: "must not contain invisible formatting characters (bidi controls, zero-width characters)",
      params: { code: "INVALID_CHARACTERS" },
    });

export const displayName = visibleName(64);
export const chatName = visibleName(128);
export const assignableRole = z.enum(["member", "admin"], { error: "must be member or admin" });
export const uuidLike = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "8-64 letters, digits, `_`, `-` (a UUID)");
