// Original file: proto/messaging/v1/chat.proto


export interface CreateChatRequest {
  'chat_type'?: (string);
  'name'?: (string);
  /**
   * Other members (the caller is always a member): exactly 1 for direct, 1..99 for groups.
   */
  'member_ids'?: (string)[];
  'idempotency_key'?: (string);
}

export interface CreateChatRequest__Output {
  'chat_type': (string);
  'name': (string);
  /**
   * Other members (the caller is always a member): exactly 1 for direct, 1..99 for groups.
   */
  'member_ids': (string)[];
  'idempotency_key': (string);
}
