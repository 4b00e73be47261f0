import { createPrivateKey, randomUUID, sign, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeSelfSignedCert, type SelfSignedCert } from './tls.js';

/** A user the token server accepts; `actions` limits what it is granted (default: everything asked for). */
export interface TokenUser {
  user: string;
  password: string;
  actions?: readonly string[];
}

/** One access entry of a registry token, as distribution expects it. */
export interface TokenAccess {
  type: string;
  name: string;
  actions: string[];
}

/** What the server saw on one token request; it never stores the password that was sent. */
export interface TokenRequestRecord {
  method: string;
  /** User name from Basic auth or the OAuth form; undefined when the request was anonymous. */
  user: string | undefined;
  service: string | undefined;
  scopes: string[];
  /** True when a known user sent exactly its whole password. */
  credsMatched: boolean;
  /** Length of the password that was sent, to assert on long tokens without keeping them. */
  passwordLength: number | undefined;
  status: number;
  granted: TokenAccess[];
}

export interface TokenServerOptions {
  users?: readonly TokenUser[];
  /** Directory for the signing key and certificate (created if missing). */
  dir: string;
  service?: string;
  issuer?: string;
  expiresInSeconds?: number;
  /** Issue tokens with no access to requests without credentials, as Docker Hub does; default false. */
  allowAnonymous?: boolean;
  /** Reuse an existing signing certificate instead of creating one in dir. */
  signingCert?: SelfSignedCert;
}

export interface TokenServer {
  /** The realm to put in the registry's auth.token config. */
  readonly realm: string;
  readonly url: string;
  readonly port: number;
  readonly service: string;
  readonly issuer: string;
  /** The PEM the registry must list in rootcertbundle (the same cert as in each token's x5c). */
  readonly certPath: string;
  readonly requests: TokenRequestRecord[];
  setUsers(users: readonly TokenUser[]): void;
  addUser(user: TokenUser): void;
  stop(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** Splits "type:name:actions"; names may not hold a colon but "registry:catalog:*" must work too. */
export function parseScope(scope: string): TokenAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((a) => a !== '');
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

function passwordsEqual(expected: string, given: string): boolean {
  // Compare the WHOLE byte strings: bcrypt-style 72-byte truncation is exactly the bug class
  // (a 2,000-character ECR token cut short) these tests must be able to catch.
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Signs a distribution-compatible RS256 JWT whose header carries the signing cert as x5c. */
export function signRegistryToken(key: KeyObject, certDerBase64: string, claims: Record<string, unknown>): string {
  const header = { typ: 'JWT', alg: 'RS256', x5c: [certDerBase64] };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput), key);
  return `${signingInput}.${b64url(signature)}`;
}

async function readBody(req: http.IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts a registry token server (GET /token with Basic auth, POST /token password grant) on 127.0.0.1. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const service = options.service ?? 'registry-login-test';
  const issuer = options.issuer ?? 'registry-login-test-issuer';
  const expiresIn = options.expiresInSeconds ?? 300;
  const cert =
    options.signingCert ?? (await makeSelfSignedCert(options.dir, { name: 'token-signing', cn: 'token-issuer' }));
  const key = createPrivateKey(cert.keyPem);
  const certDer = new X509Certificate(cert.certPem).raw.toString('base64');
  let users: TokenUser[] = [...(options.users ?? [])];
  const requests: TokenRequestRecord[] = [];

  const respond = (
    res: http.ServerResponse,
    status: number,
    body: unknown,
    extraHeaders: Record<string, string> = {},
  ): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...extraHeaders });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') {
      respond(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'only /token lives here' }] });
      return;
    }
    let creds: { user: string; password: string } | undefined;
    let scopes: string[];
    let requestedService: string | undefined;
    if (req.method === 'GET') {
      creds = parseBasic(req.headers.authorization);
      scopes = url.searchParams
        .getAll('scope')
        .flatMap((s) => s.split(' '))
        .filter((s) => s !== '');
      requestedService = url.searchParams.get('service') ?? undefined;
    } else if (req.method === 'POST') {
      // containerd/buildx try the OAuth2 password grant first when they hold credentials.
      const form = new URLSearchParams(await readBody(req));
      const grant = form.get('grant_type');
      if (grant !== 'password') {
        respond(res, 400, { error: 'unsupported_grant_type' });
        requests.push({
          method: 'POST',
          user: undefined,
          service: form.get('service') ?? undefined,
          scopes: [],
          credsMatched: false,
          passwordLength: undefined,
          status: 400,
          granted: [],
        });
        return;
      }
      const user = form.get('username');
      const password = form.get('password');
      creds = user !== null && password !== null ? { user, password } : undefined;
      scopes = (form.get('scope') ?? '').split(' ').filter((s) => s !== '');
      requestedService = form.get('service') ?? undefined;
    } else {
      respond(res, 405, { error: 'method not allowed' }, { allow: 'GET, POST' });
      return;
    }

    const known = creds === undefined ? undefined : users.find((u) => u.user === creds.user);
    const credsMatched = known !== undefined && creds !== undefined && passwordsEqual(known.password, creds.password);
    const record: TokenRequestRecord = {
      method: req.method,
      user: creds?.user,
      service: requestedService,
      scopes,
      credsMatched,
      passwordLength: creds?.password.length,
      status: 0,
      granted: [],
    };
    requests.push(record);

    if (creds !== undefined ? !credsMatched : !options.allowAnonymous) {
      record.status = 401;
      respond(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
        { 'www-authenticate': 'Basic realm="registry-login-test-token"' },
      );
      return;
    }
    if (requestedService !== undefined && requestedService !== service) {
      record.status = 400;
      respond(res, 400, { errors: [{ code: 'DENIED', message: `unknown service` }] });
      return;
    }

    const granted: TokenAccess[] = [];
    if (credsMatched && known !== undefined) {
      for (const scope of scopes) {
        const access = parseScope(scope);
        if (access === undefined) continue;
        const allowed = known.actions;
        access.actions = allowed === undefined ? access.actions : access.actions.filter((a) => allowed.includes(a));
        granted.push(access);
      }
    }
    record.granted = granted;
    record.status = 200;

    const now = Math.floor(Date.now() / 1000);
    const token = signRegistryToken(key, certDer, {
      iss: issuer,
      sub: credsMatched ? known?.user : '',
      aud: service,
      // Registry and token server share a clock, but allow for a test that fakes time elsewhere.
      nbf: now - 30,
      iat: now,
      exp: now + expiresIn,
      jti: randomUUID(),
      access: granted,
    });
    respond(res, 200, {
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: new Date(now * 1000).toISOString(),
    });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) respond(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${String(port)}`;

  return {
    realm: `${url}/token`,
    url,
    port,
    service,
    issuer,
    certPath: cert.certPath,
    requests,
    setUsers(next) {
      users = [...next];
    },
    addUser(user) {
      users = [...users.filter((u) => u.user !== user.user), user];
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
