// Original file: proto/messaging/v1/ingest.proto


export interface PersistMessageRequest {
  'chat_id'?: (string);
  'sender_id'?: (string);
  'client_message_id'?: (string);
  'content_type'?: (string);
  'content'?: (string);
  /**
   * Propagated tracing id (optional).
   */
  'trace_id'?: (string);
  /**
   * The sending connection (optional): the event names it so fanout does not push the message back to it.
   */
  'sender_connection_id'?: (string);
}

export interface PersistMessageRequest__Output {
  'chat_id': (string);
  'sender_id': (string);
  'client_message_id': (string);
  'content_type': (string);
  'content': (string);
  /**
   * Propagated tracing id (optional).
   */
  'trace_id': (string);
  /**
   * The sending connection (optional): the event names it so fanout does not push the message back to it.
   */
  'sender_connection_id': (string);
}
