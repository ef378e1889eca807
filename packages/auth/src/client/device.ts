/** Headless login with the OAuth 2.0 device authorization grant (RFC 8628). */
import {
  initiateDeviceAuthorization,
  pollDeviceAuthorizationGrant,
  type TokenEndpointResponse,
} from 'openid-client';
import { resolveClientIdentity } from './client-registration.js';
import { grantKey } from './credentials.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import { prepareLoginDPoP } from './dpop.js';
import { type LoginOptions, type LoginResult, persistLogin, planLogin, scopeParams } from './login-common.js';
import { buildConfiguration, classifyGrantError, toStoredTokens } from './openid.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceCodeInfo {
  userCode: string;
  verificationUri: string;
  /** The verification URI with the code embedded, when the AS offers one (good for a QR code). */
  verificationUriComplete: string | undefined;
  /** Epoch ms after which the code is no longer valid. */
  expiresAt: number;
}

export interface DeviceCodeLoginOptions extends LoginOptions {
  /** Receives the user code and where to enter it; the CLI prints them. */
  onDeviceCode: (info: DeviceCodeInfo) => void | Promise<void>;
}

/**
 * Runs the device authorization grant for workload `name` and stores the grant.
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_UNSUPPORTED_GRANT` (no device endpoint), `_TIMEOUT`
 *   (code expired), `_AUTHORIZATION_DENIED`, `_ABORTED`, `_NO_CLIENT`, `_TOKEN_REQUEST`, `_AS_UNAVAILABLE`.
 */
export async function loginWithDeviceCode(options: DeviceCodeLoginOptions): Promise<LoginResult> {
  if (typeof options?.onDeviceCode !== 'function') throw new TypeError('"onDeviceCode" must be a function');
  const plan = planLogin(options, { offlineAccess: true });
  if (typeof plan.as.device_authorization_endpoint !== 'string') {
    throw new OAuthClientError(
      OAuthClientErrorCode.UnsupportedGrant,
      `The authorization server ${plan.as.issuer} offers no device authorization endpoint (RFC 8628)`,
    );
  }
  const dpop = await prepareLoginDPoP(options.dpop, options.auth);
  return options.store.withLock(
    grantKey(plan.name),
    async () => {
      const client = await resolveClientIdentity({
        as: plan.as,
        store: options.store,
        client: options.client,
        grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'],
        scopes: plan.scopes,
        fetch: plan.fetch,
        timeoutMs: plan.requestTimeoutMs,
        signal: options.signal,
        allowInsecureHttp: plan.allowInsecureHttp,
      });
      const config = buildConfiguration(plan.as, client, {
        fetch: plan.fetch,
        timeoutMs: plan.requestTimeoutMs,
      });
      let resource = plan.resource;
      for (let attempt = 0; ; attempt++) {
        let response: TokenEndpointResponse;
        try {
          const started = Date.now();
          const device = await initiateDeviceAuthorization(config, scopeParams(plan.scopes, resource));
          await options.onDeviceCode({
            userCode: device.user_code,
            verificationUri: device.verification_uri,
            verificationUriComplete: device.verification_uri_complete,
            expiresAt: started + device.expires_in * 1000,
          });
          response = await pollDeviceAuthorizationGrant(config, device, resource ? { resource } : undefined, {
            signal: options.signal ?? AbortSignal.timeout(device.expires_in * 1000),
            ...dpop?.options(config),
          });
        } catch (err) {
          const e = classifyGrantError(err, 'device authorization', options.signal);
          if (attempt === 0 && resource !== undefined && e.oauthError === 'invalid_target') {
            resource = undefined;
            continue;
          }
          if (e.oauthError === 'expired_token') {
            throw new OAuthClientError(
              OAuthClientErrorCode.Timeout,
              'The device code expired before the login was completed',
              {
                cause: e,
                oauthError: 'expired_token',
              },
            );
          }
          if (e.oauthError === 'access_denied') {
            throw new OAuthClientError(
              OAuthClientErrorCode.AuthorizationDenied,
              'The device login was denied',
              {
                cause: e,
                oauthError: 'access_denied',
              },
            );
          }
          throw e;
        }
        return persistLogin(
          options,
          plan,
          'device_code',
          client,
          resource,
          toStoredTokens(response),
          response.scope,
          { dpop: dpop?.keyFor(response) },
        );
      }
    },
    { timeoutMs: 600_000, signal: options.signal },
  );
}
