// Original file: proto/messaging/v1/events.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Topic messages.persisted.
 */
export interface MessagePersisted {
  'message_id'?: (string);
  'chat_id'?: (string);
  'sequence'?: (number | string | Long);
  'sender_id'?: (string);
  'content'?: (string);
  'content_type'?: (string);
  'client_message_id'?: (string);
  'created_at'?: (string);
}

/**
 * Topic messages.persisted.
 */
export interface MessagePersisted__Output {
  'message_id': (string);
  'chat_id': (string);
  'sequence': (number);
  'sender_id': (string);
  'content': (string);
  'content_type': (string);
  'client_message_id': (string);
  'created_at': (string);
}
