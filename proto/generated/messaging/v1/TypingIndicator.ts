// Original file: proto/messaging/v1/gateway.proto


/**
 * protocol.md §5 `typing_indicator`: `user_id` is typing in `chat_id` (or stopped).
 */
export interface TypingIndicator {
  'chat_id'?: (string);
  'user_id'?: (string);
  'is_typing'?: (boolean);
}

/**
 * protocol.md §5 `typing_indicator`: `user_id` is typing in `chat_id` (or stopped).
 */
export interface TypingIndicator__Output {
  'chat_id': (string);
  'user_id': (string);
  'is_typing': (boolean);
}
