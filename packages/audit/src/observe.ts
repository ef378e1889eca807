/** What audit learns from a response: proxy-core's answer observer (shared with telemetry). */
export type { AnswerFacts as ResponseFacts } from '@bastion-mcp/proxy-core';
