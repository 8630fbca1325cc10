// Original file: proto/messaging/v1/gateway.proto


export interface DeliverResponse {
  /**
   * Pushes enqueued to sockets.
   */
  'delivered'?: (number);
  /**
   * Deliveries for users with no connection here.
   */
  'no_connection'?: (number);
  /**
   * Pushes dropped by backpressure (slow consumers).
   */
  'dropped'?: (number);
}

export interface DeliverResponse__Output {
  /**
   * Pushes enqueued to sockets.
   */
  'delivered': (number);
  /**
   * Deliveries for users with no connection here.
   */
  'no_connection': (number);
  /**
   * Pushes dropped by backpressure (slow consumers).
   */
  'dropped': (number);
}
