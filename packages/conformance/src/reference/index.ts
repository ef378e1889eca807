export { startReferenceUpstream, isLocalRequest, isModernRequest } from './upstream.js';
export type { ReferenceUpstream, ReferenceUpstreamOptions } from './upstream.js';
export { createReferenceServer } from './server.js';
export type { ReferenceSessionHooks } from './server.js';
export { startModernReferenceUpstream } from './modern/upstream.js';
export type { ModernReferenceUpstream, ModernReferenceUpstreamOptions } from './modern/upstream.js';
