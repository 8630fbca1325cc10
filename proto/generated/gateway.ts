import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CloseConnectionsRequest as _messaging_v1_CloseConnectionsRequest, CloseConnectionsRequest__Output as _messaging_v1_CloseConnectionsRequest__Output } from './messaging/v1/CloseConnectionsRequest.js';
import type { CloseConnectionsResponse as _messaging_v1_CloseConnectionsResponse, CloseConnectionsResponse__Output as _messaging_v1_CloseConnectionsResponse__Output } from './messaging/v1/CloseConnectionsResponse.js';
import type { DeliverRequest as _messaging_v1_DeliverRequest, DeliverRequest__Output as _messaging_v1_DeliverRequest__Output } from './messaging/v1/DeliverRequest.js';
import type { DeliverResponse as _messaging_v1_DeliverResponse, DeliverResponse__Output as _messaging_v1_DeliverResponse__Output } from './messaging/v1/DeliverResponse.js';
import type { Delivery as _messaging_v1_Delivery, Delivery__Output as _messaging_v1_Delivery__Output } from './messaging/v1/Delivery.js';
import type { EphemeralFrame as _messaging_v1_EphemeralFrame, EphemeralFrame__Output as _messaging_v1_EphemeralFrame__Output } from './messaging/v1/EphemeralFrame.js';
import type { EphemeralPush as _messaging_v1_EphemeralPush, EphemeralPush__Output as _messaging_v1_EphemeralPush__Output } from './messaging/v1/EphemeralPush.js';
import type { GatewayServiceClient as _messaging_v1_GatewayServiceClient, GatewayServiceDefinition as _messaging_v1_GatewayServiceDefinition } from './messaging/v1/GatewayService.js';
import type { Message as _messaging_v1_Message, Message__Output as _messaging_v1_Message__Output } from './messaging/v1/Message.js';
import type { PageRequest as _messaging_v1_PageRequest, PageRequest__Output as _messaging_v1_PageRequest__Output } from './messaging/v1/PageRequest.js';
import type { PageResponse as _messaging_v1_PageResponse, PageResponse__Output as _messaging_v1_PageResponse__Output } from './messaging/v1/PageResponse.js';
import type { PushEphemeralRequest as _messaging_v1_PushEphemeralRequest, PushEphemeralRequest__Output as _messaging_v1_PushEphemeralRequest__Output } from './messaging/v1/PushEphemeralRequest.js';
import type { PushEphemeralResponse as _messaging_v1_PushEphemeralResponse, PushEphemeralResponse__Output as _messaging_v1_PushEphemeralResponse__Output } from './messaging/v1/PushEphemeralResponse.js';
import type { TypingIndicator as _messaging_v1_TypingIndicator, TypingIndicator__Output as _messaging_v1_TypingIndicator__Output } from './messaging/v1/TypingIndicator.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  messaging: {
    v1: {
      CloseConnectionsRequest: MessageTypeDefinition<_messaging_v1_CloseConnectionsRequest, _messaging_v1_CloseConnectionsRequest__Output>
      CloseConnectionsResponse: MessageTypeDefinition<_messaging_v1_CloseConnectionsResponse, _messaging_v1_CloseConnectionsResponse__Output>
      DeliverRequest: MessageTypeDefinition<_messaging_v1_DeliverRequest, _messaging_v1_DeliverRequest__Output>
      DeliverResponse: MessageTypeDefinition<_messaging_v1_DeliverResponse, _messaging_v1_DeliverResponse__Output>
      Delivery: MessageTypeDefinition<_messaging_v1_Delivery, _messaging_v1_Delivery__Output>
      EphemeralFrame: MessageTypeDefinition<_messaging_v1_EphemeralFrame, _messaging_v1_EphemeralFrame__Output>
      EphemeralPush: MessageTypeDefinition<_messaging_v1_EphemeralPush, _messaging_v1_EphemeralPush__Output>
      /**
       * The connection plane's internal endpoint, called by fanout workers (D7) and by chat management.
       */
      GatewayService: SubtypeConstructor<typeof grpc.Client, _messaging_v1_GatewayServiceClient> & { service: _messaging_v1_GatewayServiceDefinition }
      Message: MessageTypeDefinition<_messaging_v1_Message, _messaging_v1_Message__Output>
      PageRequest: MessageTypeDefinition<_messaging_v1_PageRequest, _messaging_v1_PageRequest__Output>
      PageResponse: MessageTypeDefinition<_messaging_v1_PageResponse, _messaging_v1_PageResponse__Output>
      PushEphemeralRequest: MessageTypeDefinition<_messaging_v1_PushEphemeralRequest, _messaging_v1_PushEphemeralRequest__Output>
      PushEphemeralResponse: MessageTypeDefinition<_messaging_v1_PushEphemeralResponse, _messaging_v1_PushEphemeralResponse__Output>
      TypingIndicator: MessageTypeDefinition<_messaging_v1_TypingIndicator, _messaging_v1_TypingIndicator__Output>
    }
  }
}

