import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ChatCreated as _messaging_v1_ChatCreated, ChatCreated__Output as _messaging_v1_ChatCreated__Output } from './messaging/v1/ChatCreated.js';
import type { EventEnvelope as _messaging_v1_EventEnvelope, EventEnvelope__Output as _messaging_v1_EventEnvelope__Output } from './messaging/v1/EventEnvelope.js';
import type { MembershipChanged as _messaging_v1_MembershipChanged, MembershipChanged__Output as _messaging_v1_MembershipChanged__Output } from './messaging/v1/MembershipChanged.js';
import type { MessagePersisted as _messaging_v1_MessagePersisted, MessagePersisted__Output as _messaging_v1_MessagePersisted__Output } from './messaging/v1/MessagePersisted.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  messaging: {
    v1: {
      ChatCreated: MessageTypeDefinition<_messaging_v1_ChatCreated, _messaging_v1_ChatCreated__Output>
      EventEnvelope: MessageTypeDefinition<_messaging_v1_EventEnvelope, _messaging_v1_EventEnvelope__Output>
      MembershipChanged: MessageTypeDefinition<_messaging_v1_MembershipChanged, _messaging_v1_MembershipChanged__Output>
      MessagePersisted: MessageTypeDefinition<_messaging_v1_MessagePersisted, _messaging_v1_MessagePersisted__Output>
    }
  }
}

