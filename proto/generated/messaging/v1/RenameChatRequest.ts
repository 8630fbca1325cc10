// Original file: proto/messaging/v1/chat.proto


export interface RenameChatRequest {
  'chat_id'?: (string);
  'name'?: (string);
}

export interface RenameChatRequest__Output {
  'chat_id': (string);
  'name': (string);
}
