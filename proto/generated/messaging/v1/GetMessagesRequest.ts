// Original file: proto/messaging/v1/chat.proto

import type { PageRequest as _messaging_v1_PageRequest, PageRequest__Output as _messaging_v1_PageRequest__Output } from '../../messaging/v1/PageRequest.js';
import type { Long } from '@grpc/proto-loader';

export interface GetMessagesRequest {
  'chat_id'?: (string);
  /**
   * At most one of after/before; neither = the newest page.
   */
  'after_sequence'?: (number | string | Long);
  'before_sequence'?: (number | string | Long);
  'page'?: (_messaging_v1_PageRequest | null);
}

export interface GetMessagesRequest__Output {
  'chat_id': (string);
  /**
   * At most one of after/before; neither = the newest page.
   */
  'after_sequence': (number);
  'before_sequence': (number);
  'page': (_messaging_v1_PageRequest__Output | null);
}
