/**
 * Cross-field rules of the custom resources. Each rule is written twice from one place: as a CEL
 * `x-kubernetes-validations` rule in the generated CRD (enforced at admission by Kubernetes >= 1.25;
 * older servers drop it silently) and as a JavaScript check the operator runs on every reconcile (so
 * a 1.20 cluster still reports `ConfigValid=False` instead of deploying a broken proxy).
 */
export interface CrossFieldRule {
  /** CEL expression over `self` (the object the rule is attached to). */
  readonly rule: string;
  readonly message: string;
  /** Path (relative to the object) reported when the rule fails. */
  readonly field: string;
  /** The same rule in JavaScript. `self` has already passed the structural schema. */
  readonly check: (self: Record<string, unknown>) => boolean;
}

const has = (o: Record<string, unknown>, k: string): boolean => o[k] !== undefined && o[k] !== null;
const sub = (o: Record<string, unknown>, k: string): Record<string, unknown> =>
  (o[k] ?? {}) as Record<string, unknown>;

export const proxySpecRules: readonly CrossFieldRule[] = [
  {
    rule: '[has(self.oidcConfig), has(self.oidcConfigRef), has(self.anonymous) && self.anonymous].filter(x, x).size() == 1',
    message:
      'inbound authentication must be explicit: set exactly one of oidcConfig, oidcConfigRef or anonymous: true',
    field: 'spec.oidcConfig',
    check: (s) =>
      [has(s, 'oidcConfig'), has(s, 'oidcConfigRef'), s.anonymous === true].filter(Boolean).length === 1,
  },
];

export const authzRules: readonly CrossFieldRule[] = [
  {
    rule: 'has(self.policies) != has(self.configMapRef)',
    message: 'set exactly one of authz.policies or authz.configMapRef',
    field: 'spec.authz',
    check: (s) => has(s, 'policies') !== has(s, 'configMapRef'),
  },
];

export const oidcRules: readonly CrossFieldRule[] = [
  {
    rule: '!has(self.clientSecretRef) || has(self.clientId)',
    message: 'clientSecretRef needs clientId',
    field: 'clientSecretRef',
    check: (s) => !has(s, 'clientSecretRef') || has(s, 'clientId'),
  },
];

export const externalAuthRules: readonly CrossFieldRule[] = [
  {
    rule: "has(self.tokenExchange) == (self.type == 'tokenExchange') && has(self.clientCredentials) == (self.type == 'clientCredentials') && has(self.headerInjection) == (self.type == 'headerInjection')",
    message: 'set exactly the block named by type (tokenExchange, clientCredentials or headerInjection)',
    field: 'spec.type',
    check: (s) =>
      has(s, 'tokenExchange') === (s.type === 'tokenExchange') &&
      has(s, 'clientCredentials') === (s.type === 'clientCredentials') &&
      has(s, 'headerInjection') === (s.type === 'headerInjection'),
  },
];

export const headerForwardRules: readonly CrossFieldRule[] = [
  {
    rule: '!has(self.plain) || !has(self.fromSecret) || self.fromSecret.all(h, !(h.header in self.plain))',
    message: 'a header cannot be both in headerForward.plain and headerForward.fromSecret',
    field: 'spec.headerForward',
    check: (s) => {
      const plain = Object.keys(sub(s, 'plain')).map((h) => h.toLowerCase());
      const fromSecret = (s.fromSecret ?? []) as Array<{ header: string }>;
      return fromSecret.every((h) => !plain.includes(h.header.toLowerCase()));
    },
  },
];

/** Every rule, by CEL text (used by schema validators that cannot evaluate CEL). */
export const allRules: ReadonlyMap<string, CrossFieldRule> = new Map(
  [...proxySpecRules, ...authzRules, ...oidcRules, ...externalAuthRules, ...headerForwardRules].map((r) => [
    r.rule,
    r,
  ]),
);
