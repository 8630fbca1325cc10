// Original file: proto/messaging/v1/common.proto

import type { Long } from '@grpc/proto-loader';

export interface Message {
  'message_id'?: (string);
  'chat_id'?: (string);
  'sender_id'?: (string);
  'client_message_id'?: (string);
  'sequence'?: (number | string | Long);
  'content_type'?: (string);
  'content'?: (string);
  'created_at'?: (number | string | Long);
}

export interface Message__Output {
  'message_id': (string);
  'chat_id': (string);
  'sender_id': (string);
  'client_message_id': (string);
  'sequence': (number);
  'content_type': (string);
  'content': (string);
  'created_at': (number);
}
