// Original file: proto/messaging/v1/ingest.proto

import type { Long } from '@grpc/proto-loader';

export interface AckResponse {
  /**
   * The user's last_acked_sequence after the ack.
   */
  'last_acked_sequence'?: (number | string | Long);
}

export interface AckResponse__Output {
  /**
   * The user's last_acked_sequence after the ack.
   */
  'last_acked_sequence': (number);
}
