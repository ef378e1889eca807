/** Version of the operator; also the default proxy runner image tag. */
export const VERSION = '0.1.0';
export const DEFAULT_IMAGE = `ghcr.io/bastion-mcp/proxyrunner:${VERSION}`;
