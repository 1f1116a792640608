export * from './messages.js';
export { isWithinWindow } from './availability.js';
export { PROTOCOL_VERSION } from './version.js';
export { GatewayService, LOADER_OPTIONS, PROTO_PATH, gatewayClient, type GatewayClient } from './load.js';
export * from './build.js';
