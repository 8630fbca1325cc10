// Original file: proto/messaging/v1/gateway.proto


export interface PushEphemeralResponse {
  /**
   * Frames written to (or queued for) sockets.
   */
  'delivered'?: (number);
  /**
   * Recipients with no connection here.
   */
  'no_connection'?: (number);
  /**
   * Frames not sent because the connection's outbound buffer was backed up.
   */
  'dropped'?: (number);
}

export interface PushEphemeralResponse__Output {
  /**
   * Frames written to (or queued for) sockets.
   */
  'delivered': (number);
  /**
   * Recipients with no connection here.
   */
  'no_connection': (number);
  /**
   * Frames not sent because the connection's outbound buffer was backed up.
   */
  'dropped': (number);
}
