// Original file: proto/messaging/v1/gateway.proto

import type { EphemeralFrame as _messaging_v1_EphemeralFrame, EphemeralFrame__Output as _messaging_v1_EphemeralFrame__Output } from '../../messaging/v1/EphemeralFrame.js';

export interface EphemeralPush {
  /**
   * Recipients; the gateway pushes the frame to each of their connections it holds.
   */
  'user_ids'?: (string)[];
  'frame'?: (_messaging_v1_EphemeralFrame | null);
}

export interface EphemeralPush__Output {
  /**
   * Recipients; the gateway pushes the frame to each of their connections it holds.
   */
  'user_ids': (string)[];
  'frame': (_messaging_v1_EphemeralFrame__Output | null);
}
