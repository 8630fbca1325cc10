import type { ChatId } from "../../runtime/ids.js";
import type { Caller } from "../auth/sessions.js";

/** Mutes (for some hours, or indefinitely) or unmutes the caller's notifications of a chat. */
export class MuteChatCommand {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
    /** Hours to mute; null = indefinitely; undefined with `unmute` = unmute. */
    readonly durationHours: number | null,
    readonly unmute = false,
  ) {}
}

/**
 * An indefinite mute is stored as the last millisecond of year 9999 (spec §8.21 leaves it undefined): a
 * plain number, so readers compare it like any other `muted_until`.
 */
export const MUTED_FOREVER_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
