// Original file: proto/messaging/v1/chat.proto

import type { Long } from '@grpc/proto-loader';

export interface Chat {
  'chat_id'?: (string);
  /**
   * "direct" or "group".
   */
  'chat_type'?: (string);
  'name'?: (string);
  'member_count'?: (number);
  'created_at'?: (number | string | Long);
  'last_sequence'?: (number | string | Long);
  'created_by'?: (string);
}

export interface Chat__Output {
  'chat_id': (string);
  /**
   * "direct" or "group".
   */
  'chat_type': (string);
  'name': (string);
  'member_count': (number);
  'created_at': (number);
  'last_sequence': (number);
  'created_by': (string);
}
