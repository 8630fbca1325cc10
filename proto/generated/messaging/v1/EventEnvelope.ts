// Original file: proto/messaging/v1/events.proto


export interface EventEnvelope {
  'event_id'?: (string);
  /**
   * "MessagePersisted", "MembershipChanged" or "ChatCreated".
   */
  'event_type'?: (string);
  'event_version'?: (number);
  /**
   * ISO-8601 UTC with milliseconds.
   */
  'event_time'?: (string);
  /**
   * Always the chat_id.
   */
  'partition_key'?: (string);
  'producer_id'?: (string);
  'trace_id'?: (string);
}

export interface EventEnvelope__Output {
  'event_id': (string);
  /**
   * "MessagePersisted", "MembershipChanged" or "ChatCreated".
   */
  'event_type': (string);
  'event_version': (number);
  /**
   * ISO-8601 UTC with milliseconds.
   */
  'event_time': (string);
  /**
   * Always the chat_id.
   */
  'partition_key': (string);
  'producer_id': (string);
  'trace_id': (string);
}
