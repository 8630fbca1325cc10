// Original file: proto/messaging/v1/gateway.proto


export interface CloseConnectionsRequest {
  'user_id'?: (string);
  /**
   * Empty = every session of the user.
   */
  'session_id'?: (string);
  /**
   * A connection_closing reason of the protocol, e.g. "token_expired".
   */
  'reason'?: (string);
  /**
   * Only this connection of the user (a device that reconnected through another gateway); empty = any.
   */
  'connection_id'?: (string);
}

export interface CloseConnectionsRequest__Output {
  'user_id': (string);
  /**
   * Empty = every session of the user.
   */
  'session_id': (string);
  /**
   * A connection_closing reason of the protocol, e.g. "token_expired".
   */
  'reason': (string);
  /**
   * Only this connection of the user (a device that reconnected through another gateway); empty = any.
   */
  'connection_id': (string);
}
