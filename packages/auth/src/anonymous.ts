/**
 * Anonymous mode: an explicit opt-in (for the CLI's local proxy on 127.0.0.1) that accepts every
 * request with a fixed local identity and never reads or keeps any `Authorization` header.
 */
import type { Identity, Middleware } from '@bastion-mcp/proxy-core';
import { assertNonEmptyString, assertStringArray } from './internal/validate.js';

export interface AnonymousIdentityOptions {
  /** Subject of the local identity. Default `'local'`. */
  readonly subject?: string;
  /** Display name. Default `'Local user'`. */
  readonly name?: string;
  readonly email?: string | undefined;
  readonly groups?: readonly string[];
  readonly roles?: readonly string[];
  readonly scopes?: readonly string[];
}

/** The identity produced by anonymous mode. */
export function anonymousIdentity(options: AnonymousIdentityOptions = {}): Identity {
  const subject = options.subject ?? 'local';
  assertNonEmptyString('subject', subject);
  const name = options.name ?? 'Local user';
  assertNonEmptyString('name', name);
  const groups = options.groups ?? [];
  const roles = options.roles ?? [];
  const scopes = options.scopes ?? [];
  assertStringArray('groups', groups);
  assertStringArray('roles', roles);
  assertStringArray('scopes', scopes);
  return Object.freeze({
    subject,
    name,
    email: options.email,
    groups: Object.freeze([...groups]),
    roles: Object.freeze([...roles]),
    scopes: Object.freeze([...scopes]),
    claims: Object.freeze({ sub: subject, name, iss: 'bastion-local' }),
    tokenKind: 'anonymous' as const,
    expiresAt: undefined,
  });
}

/** A Middleware (name `auth`) that sets the same local identity on every exchange. */
export function createAnonymousAuthMiddleware(options: AnonymousIdentityOptions = {}): Middleware {
  const identity = anonymousIdentity(options);
  return {
    name: 'auth',
    async handle(exchange, next) {
      exchange.identity = identity;
      exchange.notes.auth = { tokenKind: 'anonymous' };
      return next();
    },
    readiness() {
      return { ready: true, detail: 'anonymous mode (no inbound authentication)' };
    },
  };
}
