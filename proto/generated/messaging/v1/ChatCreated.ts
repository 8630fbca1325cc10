// Original file: proto/messaging/v1/events.proto


/**
 * Topic chats.created.
 */
export interface ChatCreated {
  'chat_id'?: (string);
  'chat_type'?: (string);
  'name'?: (string);
  'created_by'?: (string);
  'initial_members'?: (string)[];
  'created_at'?: (string);
}

/**
 * Topic chats.created.
 */
export interface ChatCreated__Output {
  'chat_id': (string);
  'chat_type': (string);
  'name': (string);
  'created_by': (string);
  'initial_members': (string)[];
  'created_at': (string);
}
