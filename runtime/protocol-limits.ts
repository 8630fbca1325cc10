/**
 * Facts of the client protocol (spec/protocol.md) that more than one plane states: the gateway enforces
 * them on frames, the durability plane defends itself with them (D9), chat management publishes them at
 * the API root. One home, so the planes cannot disagree.
 */

/** The protocol version served at `/v1/ws`. */
export const PROTOCOL_VERSION = 1;

/** UTF-8 bytes of one message's content at most (D9). */
export const MAX_CONTENT_BYTES = 4096;
