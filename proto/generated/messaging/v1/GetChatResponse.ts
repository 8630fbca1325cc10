// Original file: proto/messaging/v1/chat.proto

import type { Chat as _messaging_v1_Chat, Chat__Output as _messaging_v1_Chat__Output } from '../../messaging/v1/Chat.js';

export interface GetChatResponse {
  'chat'?: (_messaging_v1_Chat | null);
}

export interface GetChatResponse__Output {
  'chat': (_messaging_v1_Chat__Output | null);
}
