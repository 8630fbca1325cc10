// Original file: proto/messaging/v1/ingest.proto

import type { Long } from '@grpc/proto-loader';

export interface SyncMessagesRequest {
  'chat_id'?: (string);
  'user_id'?: (string);
  /**
   * Return sequences strictly greater than this (0 = from the start).
   */
  'after_sequence'?: (number | string | Long);
  /**
   * Page size: default 100, max 500 (D9).
   */
  'limit'?: (number);
}

export interface SyncMessagesRequest__Output {
  'chat_id': (string);
  'user_id': (string);
  /**
   * Return sequences strictly greater than this (0 = from the start).
   */
  'after_sequence': (number);
  /**
   * Page size: default 100, max 500 (D9).
   */
  'limit': (number);
}
