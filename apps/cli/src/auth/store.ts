/** The token store of this Bastion home (OS keyring when available, else the encrypted file store). */
import type { TokenStore } from '@bastion-mcp/auth/client';
import type { BastionPaths } from '../paths.js';

export async function openTokenStore(
  paths: BastionPaths,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TokenStore> {
  const { createTokenStore } = await import('@bastion-mcp/auth/client');
  // BASTION_TOKEN_STORE=file forces the encrypted file store (tests, machines with a locked keyring).
  return createTokenStore({ dir: paths.tokensDir, useKeyring: env.BASTION_TOKEN_STORE !== 'file' });
}
