// Original file: proto/messaging/v1/chat.proto

import type { Chat as _messaging_v1_Chat, Chat__Output as _messaging_v1_Chat__Output } from '../../messaging/v1/Chat.js';
import type { PageResponse as _messaging_v1_PageResponse, PageResponse__Output as _messaging_v1_PageResponse__Output } from '../../messaging/v1/PageResponse.js';

export interface ListChatsResponse {
  'chats'?: (_messaging_v1_Chat)[];
  'page'?: (_messaging_v1_PageResponse | null);
}

export interface ListChatsResponse__Output {
  'chats': (_messaging_v1_Chat__Output)[];
  'page': (_messaging_v1_PageResponse__Output | null);
}
