/**
 * Spec §2 `max_chats_per_user`: chats one user may belong to. Announced by `GET /api/v1/`, enforced when a
 * chat would add a user (chat-creation.ts), and the bound of every "all my chats" read.
 */
export const MAX_CHATS_PER_USER = 1000;
