// Original file: proto/messaging/v1/ingest.proto

import type { Long } from '@grpc/proto-loader';

export interface AckRequest {
  'chat_id'?: (string);
  'user_id'?: (string);
  'sequence'?: (number | string | Long);
}

export interface AckRequest__Output {
  'chat_id': (string);
  'user_id': (string);
  'sequence': (number);
}
