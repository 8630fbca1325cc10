// Original file: proto/messaging/v1/gateway.proto

import type { Message as _messaging_v1_Message, Message__Output as _messaging_v1_Message__Output } from '../../messaging/v1/Message.js';

export interface Delivery {
  /**
   * Recipient user; the gateway pushes to each of the user's connections it holds.
   */
  'user_id'?: (string);
  'message'?: (_messaging_v1_Message | null);
  /**
   * The connection that sent the message does not need the push (it had the ack); empty = none.
   */
  'exclude_connection_id'?: (string);
}

export interface Delivery__Output {
  /**
   * Recipient user; the gateway pushes to each of the user's connections it holds.
   */
  'user_id': (string);
  'message': (_messaging_v1_Message__Output | null);
  /**
   * The connection that sent the message does not need the push (it had the ack); empty = none.
   */
  'exclude_connection_id': (string);
}
