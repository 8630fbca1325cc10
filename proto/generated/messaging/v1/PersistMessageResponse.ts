// Original file: proto/messaging/v1/ingest.proto

import type { Long } from '@grpc/proto-loader';

export interface PersistMessageResponse {
  'message_id'?: (string);
  'sequence'?: (number | string | Long);
  'created_at'?: (number | string | Long);
  /**
   * True when client_message_id was already stored: the original message_id/sequence are returned.
   */
  'deduplicated'?: (boolean);
}

export interface PersistMessageResponse__Output {
  'message_id': (string);
  'sequence': (number);
  'created_at': (number);
  /**
   * True when client_message_id was already stored: the original message_id/sequence are returned.
   */
  'deduplicated': (boolean);
}
