// Original file: proto/messaging/v1/chat.proto

import type { PageRequest as _messaging_v1_PageRequest, PageRequest__Output as _messaging_v1_PageRequest__Output } from '../../messaging/v1/PageRequest.js';

export interface ListChatsRequest {
  'page'?: (_messaging_v1_PageRequest | null);
}

export interface ListChatsRequest__Output {
  'page': (_messaging_v1_PageRequest__Output | null);
}
