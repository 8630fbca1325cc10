// Original file: proto/messaging/v1/chat.proto

import type { Message as _messaging_v1_Message, Message__Output as _messaging_v1_Message__Output } from '../../messaging/v1/Message.js';
import type { PageResponse as _messaging_v1_PageResponse, PageResponse__Output as _messaging_v1_PageResponse__Output } from '../../messaging/v1/PageResponse.js';

export interface GetMessagesResponse {
  /**
   * Ascending by sequence.
   */
  'messages'?: (_messaging_v1_Message)[];
  'page'?: (_messaging_v1_PageResponse | null);
}

export interface GetMessagesResponse__Output {
  /**
   * Ascending by sequence.
   */
  'messages': (_messaging_v1_Message__Output)[];
  'page': (_messaging_v1_PageResponse__Output | null);
}
