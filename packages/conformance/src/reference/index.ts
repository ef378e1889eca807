export { startReferenceUpstream, isLocalRequest } from './upstream.js';
export type { ReferenceUpstream, ReferenceUpstreamOptions } from './upstream.js';
export { createReferenceServer } from './server.js';
export type { ReferenceSessionHooks } from './server.js';
