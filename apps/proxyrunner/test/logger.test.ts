import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { parseCli } from '../src/cli.js';
import { createLogger, scrubLogObject } from '../src/logger.js';

describe('log redaction', () => {
  it('redacts credential-looking keys at any depth', () => {
    const scrubbed = scrubLogObject({
      requestId: 'r1',
      headers: { authorization: 'Bearer abc', cookie: 'c=1', 'x-api-key': 'k', accept: 'json' },
      nested: { accessToken: 't', clientSecret: 's', password: 'p', list: [{ refresh_token: 'r' }] },
    });
    expect(scrubbed).toEqual({
      requestId: 'r1',
      headers: {
        authorization: '[REDACTED]',
        cookie: '[REDACTED]',
        'x-api-key': '[REDACTED]',
        accept: 'json',
      },
      nested: {
        accessToken: '[REDACTED]',
        clientSecret: '[REDACTED]',
        password: '[REDACTED]',
        list: [{ refresh_token: '[REDACTED]' }],
      },
    });
  });

  it('writes pino JSON lines without the secret values', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.info({ requestId: 'r2', token: 'eyJsecret', upstream: { authorization: 'Bearer zzz' } }, 'request');
    const line = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', msg: 'request', requestId: 'r2', token: '[REDACTED]' });
    expect(out).not.toContain('eyJsecret');
    expect(out).not.toContain('zzz');
  });
});

describe('parseCli', () => {
  const node = ['node', 'bastion-proxyrunner'];
  it('takes --config over BASTION_RUNCONFIG, and the env var alone', () => {
    expect(parseCli([...node, '--config', 'a.json'], { BASTION_RUNCONFIG: 'b.json' }, '1')).toMatchObject({
      kind: 'run',
      options: { config: 'a.json', logLevel: 'info', check: false },
    });
    expect(parseCli(node, { BASTION_RUNCONFIG: 'b.json', BASTION_LOG_LEVEL: 'debug' }, '1')).toMatchObject({
      kind: 'run',
      options: { config: 'b.json', logLevel: 'debug' },
    });
  });

  it('exits 2 on a bad flag or log level, 0 on --help and --version', () => {
    expect(parseCli([...node, '--nope'], {}, '1')).toMatchObject({ kind: 'exit', code: 2, error: true });
    expect(parseCli([...node, '--log-level', 'loud'], {}, '1')).toMatchObject({ kind: 'exit', code: 2 });
    expect(parseCli(node, { BASTION_LOG_LEVEL: 'loud' }, '1')).toMatchObject({ kind: 'exit', code: 2 });
    expect(parseCli([...node, '--version'], {}, '9.9.9')).toMatchObject({
      kind: 'exit',
      code: 0,
      output: '9.9.9\n',
    });
    const help = parseCli([...node, '--help'], {}, '1');
    expect(help).toMatchObject({ kind: 'exit', code: 0 });
    expect((help as { output: string }).output).toMatch(/Exit codes: 0 .* 2 configuration error/);
  });
});
