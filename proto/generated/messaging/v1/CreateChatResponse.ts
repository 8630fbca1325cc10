// Original file: proto/messaging/v1/chat.proto

import type { Chat as _messaging_v1_Chat, Chat__Output as _messaging_v1_Chat__Output } from '../../messaging/v1/Chat.js';

export interface CreateChatResponse {
  'chat'?: (_messaging_v1_Chat | null);
  /**
   * True when an existing direct chat (or an idempotent replay) was returned.
   */
  'is_existing'?: (boolean);
}

export interface CreateChatResponse__Output {
  'chat': (_messaging_v1_Chat__Output | null);
  /**
   * True when an existing direct chat (or an idempotent replay) was returned.
   */
  'is_existing': (boolean);
}
