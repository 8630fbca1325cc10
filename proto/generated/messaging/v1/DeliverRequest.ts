// Original file: proto/messaging/v1/gateway.proto

import type { Delivery as _messaging_v1_Delivery, Delivery__Output as _messaging_v1_Delivery__Output } from '../../messaging/v1/Delivery.js';

export interface DeliverRequest {
  'deliveries'?: (_messaging_v1_Delivery)[];
}

export interface DeliverRequest__Output {
  'deliveries': (_messaging_v1_Delivery__Output)[];
}
