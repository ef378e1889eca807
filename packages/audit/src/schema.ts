/**
 * JSON Schema (draft-07) of one audit event. The same document is published as
 * `@bastion-mcp/audit/schema` (`schema/audit-event.schema.json`); a test keeps the two identical.
 */
import { AUDIT_EVENT_TYPES, AUDIT_OUTCOMES } from './event.js';

const str = { type: 'string' } as const;
const shortStr = { type: 'string', maxLength: 1024 } as const;

export const auditEventSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://bastion-mcp.dev/schemas/audit-event.schema.json',
  title: 'Bastion audit event',
  type: 'object',
  additionalProperties: false,
  required: ['auditId', 'time', 'type', 'outcome', 'subject', 'source', 'target', 'durationMs', 'status'],
  properties: {
    auditId: {
      type: 'string',
      pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$',
    },
    time: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' },
    type: { type: 'string', enum: [...AUDIT_EVENT_TYPES] },
    outcome: { type: 'string', enum: [...AUDIT_OUTCOMES] },
    subject: {
      type: 'object',
      additionalProperties: false,
      properties: {
        userId: shortStr,
        name: shortStr,
        email: shortStr,
        tokenKind: { type: 'string', enum: ['jwt', 'opaque', 'anonymous'] },
        clientName: shortStr,
        clientVersion: shortStr,
      },
    },
    source: {
      type: 'object',
      additionalProperties: false,
      required: ['ip', 'requestId'],
      properties: { ip: str, peer: str, userAgent: shortStr, requestId: str },
    },
    target: {
      type: 'object',
      additionalProperties: false,
      required: ['server', 'endpoint', 'httpMethod'],
      properties: {
        server: str,
        endpoint: str,
        httpMethod: str,
        method: str,
        rpcId: { type: ['string', 'integer'] },
        tool: str,
        clientToolName: str,
        prompt: str,
        resource: str,
        sessionId: shortStr,
      },
    },
    durationMs: { type: 'number', minimum: 0 },
    status: { type: 'integer', minimum: 100, maximum: 599 },
    upstreamStatus: { type: 'integer', minimum: 100, maximum: 599 },
    rpcError: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: { code: { type: 'integer' }, message: { type: 'string', maxLength: 256 } },
    },
    toolError: { type: 'boolean', const: true },
    errorCode: { type: 'string', pattern: '^ERR_BASTION' },
    rejectedBy: str,
    authz: {
      type: 'object',
      additionalProperties: false,
      required: ['decision', 'policyIds'],
      properties: {
        decision: { type: 'string', enum: ['allow', 'deny'] },
        policyIds: { type: 'array', items: str },
        reason: shortStr,
      },
    },
    upstreamCredential: str,
    tokenExchange: {
      type: 'object',
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
    delegation: {
      type: 'object',
      additionalProperties: false,
      required: ['chain', 'truncated', 'malformed'],
      properties: {
        chain: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            properties: { sub: str, iss: str, clientId: str },
          },
        },
        truncated: { type: 'boolean' },
        malformed: { type: 'boolean' },
      },
    },
    streamIncomplete: { type: 'boolean', const: true },
    data: {
      type: 'object',
      additionalProperties: false,
      properties: {
        request: {},
        response: {},
        requestOmitted: {
          type: 'object',
          additionalProperties: false,
          required: ['reason', 'bytes'],
          properties: {
            reason: { type: 'string', enum: ['too_large', 'not_json'] },
            bytes: { type: 'integer' },
          },
        },
        responseOmitted: {
          type: 'object',
          additionalProperties: false,
          required: ['reason'],
          properties: {
            reason: { type: 'string', enum: ['too_large', 'not_json', 'not_captured'] },
            bytes: { type: 'integer' },
          },
        },
      },
    },
  },
} as const;
