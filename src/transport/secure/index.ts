/** Sessions over the transport: handshake, AEAD, anti-amplification, rotating-secret tokens. */
export * from './types.js';
export * from './packets.js';
export { Session, ReplayWindow, REPLAY_WINDOW, readCounter, type SessionInit, type OpenFailure } from './session.js';
export { RotatingSecret, type MacFunction } from './secret.js';
export { AmplificationGuard } from './amplification.js';
export { SecureChannel, type SecureChannelComponents } from './channel.js';
export { type SecureChannelInit, DEFAULT_CHANNEL_OPTIONS, resolveChannelOptions } from './options.js';
