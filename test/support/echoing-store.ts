// A credential store helper that fails as a careless one does, echoing the secret in its error; and every form a
// secret could be printed in, for the tests that prove none of them is.
import { chmod, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A docker-credential-<name> script in dir (put dir on PATH) and a switch that makes its `store` fail. */
export interface EchoingStore {
  /** The file holding the one login the store keeps (the JSON `store` was sent). */
  record: string;
  /** While on, `store` fails and echoes its stdin on stderr; while off, it keeps the login. */
  failStore(on: boolean): Promise<void>;
}

/**
 * Writes the store: `store` keeps its stdin in a file (or echoes it on stderr and fails while failStore is on), `get`
 * of a kept login fails echoing the record as a Go helper would marshal it (<, > and & escaped), `erase` forgets it.
 */
export async function writeEchoingStore(dir: string, name: string): Promise<EchoingStore> {
  const record = path.join(dir, `${name}.record`);
  const failing = path.join(dir, `${name}.fail-store`);
  const script = path.join(dir, `docker-credential-${name}`);
  await writeFile(
    script,
    `#!/bin/sh
case "$1" in
  store)
    if [ -e '${failing}' ]; then printf 'refused: %s\\n' "$(cat)" >&2; exit 1; fi
    cat > '${record}'; exit 0 ;;
  get)
    if [ -e '${record}' ]; then
      printf 'cannot read the record %s\\n' "$(sed 's/</\\\\u003c/g; s/>/\\\\u003e/g; s/&/\\\\u0026/g' '${record}')" >&2; exit 1
    fi
    echo 'credentials not found in native keychain'; exit 1 ;;
  erase) rm -f '${record}'; exit 0 ;;
  list) echo '{}'; exit 0 ;;
esac
exit 1
`,
  );
  await chmod(script, 0o755);
  return {
    record,
    async failStore(on) {
      if (on) await writeFile(failing, '');
      else await rm(failing, { force: true });
    },
  };
}

/**
 * A secret as it could be printed, by name: raw; escaped in a JSON string (as JSON.stringify writes it, as Go does,
 * and escaped twice, as serialising an echoed request would); base64 (alone or as user:secret), base64url;
 * URL-encoded.
 */
export function secretForms(secret: string, users: readonly string[] = []): Record<string, string> {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64').replace(/=+$/, '');
  const escaped = JSON.stringify(secret).slice(1, -1);
  return {
    raw: secret,
    'JSON-escaped': escaped,
    'JSON-escaped as Go does': escaped.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
    'JSON-escaped twice': JSON.stringify(escaped).slice(1, -1),
    base64: b64(secret),
    base64url: Buffer.from(secret, 'utf8').toString('base64url'),
    ...Object.fromEntries(users.map((user) => [`base64 of ${user}:secret`, b64(`${user}:${secret}`)])),
    'URL-encoded': encodeURIComponent(secret),
  };
}
