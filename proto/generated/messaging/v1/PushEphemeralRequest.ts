// Original file: proto/messaging/v1/gateway.proto

import type { EphemeralPush as _messaging_v1_EphemeralPush, EphemeralPush__Output as _messaging_v1_EphemeralPush__Output } from '../../messaging/v1/EphemeralPush.js';

export interface PushEphemeralRequest {
  'pushes'?: (_messaging_v1_EphemeralPush)[];
}

export interface PushEphemeralRequest__Output {
  'pushes': (_messaging_v1_EphemeralPush__Output)[];
}
