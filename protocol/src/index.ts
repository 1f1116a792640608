export * from './messages.js';
export { isWithinWindow } from './availability.js';
export { PROTOCOL_VERSION } from './version.js';
export * from './limits.js';
export { GatewayService, LOADER_OPTIONS, PROTO_PATH, encodedSize, gatewayClient, type GatewayClient } from './load.js';
export * from './build.js';
