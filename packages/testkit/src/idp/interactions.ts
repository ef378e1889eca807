import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Provider } from 'oidc-provider';
import { htmlEscape, page } from './provider-config.js';
import type { IdpState } from './state.js';

const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/;

export function isInteractionPath(pathname: string): boolean {
  return INTERACTION_PATH.test(pathname);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

function loginPage(uid: string, clientId: string, error?: string): string {
  return page(
    'Sign in',
    `<p>Client <code id="client-id">${htmlEscape(clientId)}</code> asks you to sign in.</p>` +
      (error ? `<p id="error">${htmlEscape(error)}</p>` : '') +
      `<form id="login" method="post" action="/interaction/${uid}/login">` +
      '<label for="username">Username</label> <input id="username" name="username" type="text" autofocus autocomplete="off">' +
      '<button id="submit" type="submit">Sign in</button></form>' +
      `<form id="abort" method="post" action="/interaction/${uid}/abort"><button id="cancel" type="submit">Cancel</button></form>`,
  );
}

/**
 * The interaction (login/consent) pages of the test IdP. Login is a username-only form: any
 * non-empty username signs in as that account (claims from the accounts table when listed).
 * Consent is automatic. `state.autoLogin` skips the form entirely.
 */
export async function handleInteraction(
  state: IdpState,
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<void> {
  const match = INTERACTION_PATH.exec(pathname);
  const uid = match?.[1] as string;
  const action = match?.[2];
  let details: Awaited<ReturnType<Provider['interactionDetails']>>;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    send(res, 400, page('Error', '<p id="error">Interaction session not found or expired</p>'));
    return;
  }
  if (details.uid !== uid) {
    send(res, 400, page('Error', '<p id="error">Interaction mismatch</p>'));
    return;
  }
  const clientId = String(details.params.client_id ?? '');
  const finish = (result: Record<string, unknown>): Promise<void> =>
    provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });

  if (action === 'abort') {
    await finish({ error: 'access_denied', error_description: 'End-User aborted interaction' });
    return;
  }

  if (details.prompt.name === 'login') {
    if (action === 'login') {
      if (req.method !== 'POST') {
        send(res, 405, page('Error', '<p id="error">POST the login form</p>'));
        return;
      }
      const username = (await readForm(req)).get('username')?.trim() ?? '';
      if (username === '') {
        send(res, 400, loginPage(uid, clientId, 'Enter a username'));
        return;
      }
      await finish({ login: { accountId: username } });
      return;
    }
    if (state.autoLogin !== undefined) {
      await finish({ login: { accountId: state.autoLogin } });
      return;
    }
    send(res, 200, loginPage(uid, clientId));
    return;
  }

  if (details.prompt.name === 'consent') {
    // Auto-consent: grant exactly what the prompt reports missing.
    const accountId = details.session?.accountId as string;
    const grant =
      (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
      new provider.Grant({ accountId, clientId });
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await finish({ consent: { grantId } });
    return;
  }

  send(res, 400, page('Error', `<p id="error">Unsupported prompt ${htmlEscape(details.prompt.name)}</p>`));
}
