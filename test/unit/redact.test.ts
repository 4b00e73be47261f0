import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redactor } from '../../src/redact.js';

describe('Redactor', () => {
  it('masks a secret raw, in base64 and in base64url, wherever it stands', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 4, maxLength: 300, unit: 'grapheme' }),
        fc.string({ maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        (secret, before, after) => {
          const redactor = new Redactor();
          redactor.add(secret);
          const bytes = Buffer.from(secret, 'utf8');
          for (const form of [
            secret,
            bytes.toString('base64'),
            bytes.toString('base64').replace(/=+$/, ''),
            bytes.toString('base64url'),
          ]) {
            const out = redactor.redact(`${before}${form}${after}`);
            expect(out.includes(form.replace(/=+$/, ''))).toBe(false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('masks a secret as it stands inside a JSON string, escaped as JSON.stringify and as Go write it', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 4, maxLength: 60, unit: 'grapheme-ascii' }),
        fc.constantFrom('"', '\\', '<', '&'),
        (body, special) => {
          const secret = `${special}${body}`;
          const redactor = new Redactor();
          redactor.add(secret);
          const request = JSON.stringify({ ServerURL: 'r.example', Username: 'u', Secret: secret });
          const goStyle = request.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
          for (const text of [`refused: ${request}`, `refused: ${goStyle}`]) {
            const out = redactor.redact(text);
            expect(out.endsWith('"Secret":"***"}')).toBe(true);
            expect(out).not.toContain(JSON.stringify(secret).slice(1, -1));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('registers the passwords and session tokens of an environment, not servers or users', () => {
    const redactor = new Redactor();
    redactor.addFromEnv({
      A_CONTAINER_REGISTRY_SERVER: 'ghcr.io',
      A_CONTAINER_REGISTRY_USER: 'octocat',
      A_CONTAINER_REGISTRY_PASSWORD: 'hunter22',
      a_container_registry_session_token: 'tok-en-1',
    });
    expect(redactor.redact('ghcr.io octocat hunter22 tok-en-1 aHVudGVyMjI')).toBe('ghcr.io octocat *** *** ***');
  });

  it('masks a secret that holds another one whole', () => {
    const redactor = new Redactor();
    redactor.add('pass', 'password-1');
    expect(redactor.redact('password-1 pass')).toBe('*** ***');
  });

  it('masks a secret registered after an earlier redaction', () => {
    const redactor = new Redactor();
    redactor.add('first-secret');
    expect(redactor.redact('first-secret')).toBe('***');
    redactor.add('later-secret');
    expect(redactor.redact('first-secret later-secret bGF0ZXItc2VjcmV0')).toBe('*** *** ***');
  });

  it('leaves values shorter than four characters alone, so ordinary words survive', () => {
    const redactor = new Redactor();
    redactor.add('abc');
    expect(redactor.redact('abc')).toBe('abc');
  });
});
