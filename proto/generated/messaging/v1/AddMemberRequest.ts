// Original file: proto/messaging/v1/chat.proto


export interface AddMemberRequest {
  'chat_id'?: (string);
  'user_id'?: (string);
  /**
   * "member" (default) or "admin".
   */
  'role'?: (string);
}

export interface AddMemberRequest__Output {
  'chat_id': (string);
  'user_id': (string);
  /**
   * "member" (default) or "admin".
   */
  'role': (string);
}
