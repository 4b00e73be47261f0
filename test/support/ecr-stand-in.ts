// A local stand-in for the ECR and ECR Public GetAuthorizationToken APIs that verifies every request's SigV4
// signature against known keys, records what each call proved, and can be told to fail in the ways AWS does.
// It never logs: the tokens it issues and the keys it knows stay in memory.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

export const ECR_TARGET = 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken';
export const ECR_PUBLIC_TARGET = 'SpencerFrontendService.GetAuthorizationToken';

/** A key pair the stand-in accepts (with the session token it was issued with, for temporary keys). */
export interface KnownKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** One request as the stand-in saw it. */
export interface RecordedCall {
  /** 1-based, in arrival order. */
  n: number;
  target: string;
  keyId: string;
  region: string;
  service: string;
  sessionToken?: string;
  /** The signature matched the known secret (and the session token, when the key has one). */
  verified: boolean;
  /** Why not, when verified is false. */
  rejection?: string;
  /** The registry password issued by this call, when it issued one. */
  password?: string;
  expiresAt?: Date;
  userAgent?: string;
  receivedAt: number;
}

/** What the stand-in does with a verified request. */
export type Reply =
  | { kind: 'token'; password?: string; expiresAt?: Date }
  | { kind: 'error'; status: number; type: string; message?: string }
  | { kind: 'raw'; status: number; body: string }
  | { kind: 'authorizationToken'; value: unknown; expiresAt?: Date }
  | { kind: 'reset' }
  | { kind: 'hang' };

export interface StandInOptions {
  keys: KnownKey[];
  /** Milliseconds before each answer. */
  delayMs?: number;
  /** Chooses the reply to a verified call (default: a fresh ~2,000-character token valid for 12 hours). */
  reply?: (call: RecordedCall) => Reply;
}

/** A running stand-in. */
export interface EcrStandIn {
  url: string;
  port: number;
  calls: RecordedCall[];
  /** Calls whose signature checked out. */
  verifiedCalls(): RecordedCall[];
  setReply(reply: StandInOptions['reply']): void;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/** A registry password of the length real ECR tokens have. */
export function longPassword(length = 2000): string {
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString('base64url')
    .slice(0, length);
}

/** Replies: a throttling error for the first n calls, then a token. */
export function throttleThenToken(n: number): (call: RecordedCall) => Reply {
  return (call) =>
    call.n <= n
      ? { kind: 'error', status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }
      : { kind: 'token' };
}

/** Starts the stand-in on 127.0.0.1 and a free port. */
export async function startEcrStandIn(options: StandInOptions): Promise<EcrStandIn> {
  const keys = new Map(options.keys.map((k) => [k.accessKeyId, k]));
  const calls: RecordedCall[] = [];
  let reply = options.reply ?? (() => ({ kind: 'token' }) as Reply);
  let delayMs = options.delayMs ?? 0;
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks)).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const call: RecordedCall = {
      n: calls.length + 1,
      target,
      keyId: '',
      region: '',
      service: '',
      verified: false,
      receivedAt: Date.now(),
      userAgent: String(req.headers['user-agent'] ?? ''),
    };
    calls.push(call);
    const verdict = await verify(req, body, keys);
    Object.assign(call, verdict);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const send = (status: number, value: unknown) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      res
        .writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': randomBytes(8).toString('hex'),
        })
        .end(text);
    };
    if (req.method !== 'POST' || (target !== ECR_TARGET && target !== ECR_PUBLIC_TARGET))
      return send(400, { __type: 'UnknownOperationException', message: `unknown target ${target}` });
    if (!call.verified) {
      const type =
        call.rejection === 'unknown key' || call.rejection === 'session token'
          ? 'UnrecognizedClientException'
          : 'InvalidSignatureException';
      return send(400, {
        __type: type,
        message:
          type === 'UnrecognizedClientException'
            ? 'The security token included in the request is invalid.'
            : 'The request signature we calculated does not match the signature you provided.',
      });
    }
    const answer = reply(call);
    const isPublic = target === ECR_PUBLIC_TARGET;
    const wrap = (data: Record<string, unknown>) => ({
      authorizationData: isPublic
        ? data
        : [{ ...data, proxyEndpoint: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com' }],
    });
    switch (answer.kind) {
      case 'token': {
        call.password = answer.password ?? longPassword();
        call.expiresAt = answer.expiresAt ?? new Date(Date.now() + 12 * 3600_000);
        return send(
          200,
          wrap({
            authorizationToken: Buffer.from(`AWS:${call.password}`).toString('base64'),
            expiresAt: call.expiresAt.getTime() / 1000,
          }),
        );
      }
      case 'authorizationToken':
        return send(
          200,
          wrap({
            authorizationToken: answer.value,
            expiresAt: (answer.expiresAt ?? new Date(Date.now() + 12 * 3600_000)).getTime() / 1000,
          }),
        );
      case 'error':
        return send(answer.status, { __type: answer.type, message: answer.message ?? answer.type });
      case 'raw':
        return send(answer.status, answer.body);
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        hung.add(res);
        return;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    verifiedCalls: () => calls.filter((c) => c.verified),
    setReply: (next) => {
      reply = next ?? (() => ({ kind: 'token' }));
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// Rebuilds the canonical request from the signed headers and the body and signs it with the known secret.
async function verify(req: IncomingMessage, body: Buffer, keys: Map<string, KnownKey>): Promise<Partial<RecordedCall>> {
  const auth = String(req.headers.authorization ?? '');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return { verified: false, rejection: 'no SigV4 Authorization header' };
  const [, keyId, day, region, service, signedHeaderList, signature] = m as unknown as string[];
  const sessionToken = req.headers['x-amz-security-token'] as string | undefined;
  const seen = { keyId: keyId!, region: region!, service: service!, ...(sessionToken ? { sessionToken } : {}) };
  const known = keys.get(keyId!);
  if (!known) return { ...seen, verified: false, rejection: 'unknown key' };
  if ((known.sessionToken ?? undefined) !== sessionToken)
    return { ...seen, verified: false, rejection: 'session token' };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(day!)) return { ...seen, verified: false, rejection: 'date' };
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signed = signedHeaderList!.split(';');
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = req.headers[name];
    if (value === undefined) return { ...seen, verified: false, rejection: `signed header ${name} missing` };
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: known.accessKeyId,
      secretAccessKey: known.secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
    },
    region: region!,
    service: service!,
    sha256: Sha256,
    applyChecksum: false,
  });
  const rebuilt = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: String(req.headers.host ?? '').replace(/:\d+$/, ''),
      path: url.pathname,
      query,
      headers,
      body: body.toString('utf8'),
    },
    { signingDate, signableHeaders: new Set(signed) },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(rebuilt.headers.authorization ?? ''))?.[1];
  return expected === signature ? { ...seen, verified: true } : { ...seen, verified: false, rejection: 'signature' };
}
