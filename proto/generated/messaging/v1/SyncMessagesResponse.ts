// Original file: proto/messaging/v1/ingest.proto

import type { Message as _messaging_v1_Message, Message__Output as _messaging_v1_Message__Output } from '../../messaging/v1/Message.js';
import type { Long } from '@grpc/proto-loader';

export interface SyncMessagesResponse {
  'messages'?: (_messaging_v1_Message)[];
  'has_more'?: (boolean);
  /**
   * Highest visible sequence of the chat when the page was read.
   */
  'last_sequence'?: (number | string | Long);
  /**
   * Last returned sequence + 1 (after_sequence + 1 when empty): the next page starts after next_sequence - 1.
   */
  'next_sequence'?: (number | string | Long);
}

export interface SyncMessagesResponse__Output {
  'messages': (_messaging_v1_Message__Output)[];
  'has_more': (boolean);
  /**
   * Highest visible sequence of the chat when the page was read.
   */
  'last_sequence': (number);
  /**
   * Last returned sequence + 1 (after_sequence + 1 when empty): the next page starts after next_sequence - 1.
   */
  'next_sequence': (number);
}
