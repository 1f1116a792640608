/** The protocol version this code speaks; sent in Hello. Bump only with a new proto package. */
export const PROTOCOL_VERSION = 1;
