// Original file: proto/messaging/v1/chat.proto

import type { Long } from '@grpc/proto-loader';

export interface ChatMember {
  'user_id'?: (string);
  'chat_id'?: (string);
  /**
   * "owner", "admin" or "member".
   */
  'role'?: (string);
  'joined_at'?: (number | string | Long);
}

export interface ChatMember__Output {
  'user_id': (string);
  'chat_id': (string);
  /**
   * "owner", "admin" or "member".
   */
  'role': (string);
  'joined_at': (number);
}
