/**
 * A client's `device_id` (protocol §2: a stable client UUIDv4; spec §3.2 binds sessions to it). One rule for
 * every edge that accepts one — the WebSocket handshake (`X-Device-ID` or `?device_id=`) and REST
 * (verify-otp's body, `X-Device-ID` on verify-otp and refresh) — so a session opened over REST can always
 * connect. 64 characters hold a UUID with room to spare and bound what is stored and logged.
 */
export const MAX_DEVICE_ID_LENGTH = 64;

/** Letters, digits, `.`, `_`, `:`, `-`; 1 to MAX_DEVICE_ID_LENGTH characters. */
export const DEVICE_ID_PATTERN = new RegExp(`^[A-Za-z0-9._:-]{1,${MAX_DEVICE_ID_LENGTH}}$`);

export const isDeviceId = (value: string): boolean => DEVICE_ID_PATTERN.test(value);
