// Original file: proto/messaging/v1/gateway.proto

import type { TypingIndicator as _messaging_v1_TypingIndicator, TypingIndicator__Output as _messaging_v1_TypingIndicator__Output } from '../../messaging/v1/TypingIndicator.js';

/**
 * A server frame of the protocol that lives only while its recipients are connected: one kind per field.
 */
export interface EphemeralFrame {
  'typing_indicator'?: (_messaging_v1_TypingIndicator | null);
  'frame'?: "typing_indicator";
}

/**
 * A server frame of the protocol that lives only while its recipients are connected: one kind per field.
 */
export interface EphemeralFrame__Output {
  'typing_indicator'?: (_messaging_v1_TypingIndicator__Output | null);
  'frame'?: "typing_indicator";
}
