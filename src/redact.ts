// The one redaction point: everything registry-login prints passes through a Redactor.
import { MEMBER_PATTERN, SECRET_MEMBERS } from './discover.js';

const MASK = '***';
// Below this length a "secret" would mask ordinary words; such values are still never printed on purpose.
const MIN_SECRET_LENGTH = 4;

/** Replaces every known secret, raw, JSON-escaped or base64-encoded, with ***. */
export class Redactor {
  private secrets = new Set<string>();
  /**
   * Every secret in each form it may be printed in (raw, JSON-escaped, base64 without padding, base64url), longest
   * first.
   */
  private forms: string[] | undefined;

  /** Registers secrets (and so their base64 forms) to be masked. */
  add(...values: (string | undefined)[]): void {
    for (const value of values) if (value && value.length >= MIN_SECRET_LENGTH) this.secrets.add(value);
    this.forms = undefined;
  }

  /** Registers the password, secret key, session token and external ID of every registry group in an environment. */
  addFromEnv(env: NodeJS.ProcessEnv): void {
    for (const [name, value] of Object.entries(env)) {
      const m = MEMBER_PATTERN.exec(name);
      if (m && SECRET_MEMBERS.test(m[2]!)) this.add(value, value?.trim());
    }
  }

  /** Masks every registered secret in text, raw, JSON-escaped, base64 or base64url (padding ignored). */
  redact(text: string): string {
    // Encoded when first needed: the helper's `get` registers every password of the environment and prints none.
    this.forms ??= [...this.secrets]
      .flatMap((secret) => {
        const bytes = Buffer.from(secret, 'utf8');
        // A form equal to the raw secret (nothing to escape) is tried twice, which costs one search.
        return [
          secret,
          ...jsonEscaped(secret),
          bytes.toString('base64').replace(/=+$/, ''),
          bytes.toString('base64url'),
        ];
      })
      // Longest first: a secret that holds another is masked whole.
      .sort((a, b) => b.length - a.length);
    let out = text;
    for (const form of this.forms) if (out.includes(form)) out = out.split(form).join(MASK);
    return out;
  }
}

// A secret inside a JSON string, as JSON.stringify writes it and as Go's encoding/json does (which also escapes <, >
// and &): a credential helper, mostly a Go program, may echo the request it was sent in its error.
function jsonEscaped(secret: string): string[] {
  const escaped = JSON.stringify(secret).slice(1, -1);
  return [escaped, escaped.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)];
}
