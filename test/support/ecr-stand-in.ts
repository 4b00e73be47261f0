// A local stand-in for the ECR and ECR Public GetAuthorizationToken APIs and STS AssumeRole that verifies every
// request's SigV4 signature against known keys, records what each call proved, and can be told to fail in the ways
// AWS does. AssumeRole follows a role table (which key may assume which role, with which external ID) and issues
// temporary keys that the ECR part accepts until the session ends; a registry token minted with them is valid only
// until the earlier of its own expiry and that end (tokenAccepted), as for a presigned request.
// It never logs: the tokens it issues and the keys it knows stay in memory.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

export const ECR_TARGET = 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken';
export const ECR_PUBLIC_TARGET = 'SpencerFrontendService.GetAuthorizationToken';
/** What RecordedCall.target says for an STS call (awsQuery has no target header). */
export const STS_ASSUME_ROLE = 'STS.AssumeRole';

/** A key pair the stand-in accepts (with the session token it was issued with, for temporary keys). */
export interface KnownKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A role AssumeRole may give out. */
export interface KnownRole {
  roleArn: string;
  /** Access key IDs whose IAM user the trust policy names (and which may call sts:AssumeRole on it). */
  trusted: string[];
  /** The trust policy's sts:ExternalId condition. */
  externalId?: string;
  /**
   * The session's length in seconds (default 3600, STS's default). Real STS refuses sessions under 900 s; this
   * stand-in issues shorter ones so that tests can watch a session end.
   */
  sessionSeconds?: number;
}

/** Temporary keys the stand-in issued for a role. */
interface IssuedKey extends KnownKey {
  roleArn: string;
  expiresAt: Date;
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
  /** The Host header: which endpoint the client meant to reach. */
  host?: string;
  receivedAt: number;
  answeredAt?: number;
  /** For a call signed with keys the stand-in issued: the role they belong to. */
  signedAsRole?: string;
  /** AssumeRole: what was asked and what came of it. */
  roleArn?: string;
  roleSessionName?: string;
  externalIdSent?: boolean;
  durationSeconds?: number;
  /** The temporary access key ID issued (not secret; the secret and session token are never recorded). */
  issuedKeyId?: string;
  sessionEndsAt?: Date;
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
  roles?: KnownRole[];
  /** Regions whose STS is not activated for any account here (AssumeRole answers RegionDisabledException). */
  disabledStsRegions?: string[];
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
  /** Whether a registry password this stand-in issued still works at `at` (never past a role session's end). */
  tokenAccepted(password: string, at?: Date): boolean;
  /** Every secret the stand-in issued (role secrets, session tokens, registry passwords), for leak checks. */
  issuedSecrets(): string[];
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
  const keys = new Map<string, KnownKey | IssuedKey>(options.keys.map((k) => [k.accessKeyId, k]));
  const roles = new Map((options.roles ?? []).map((r) => [r.roleArn, r]));
  const disabledStsRegions = new Set(options.disabledStsRegions ?? []);
  // Registry password → when it stops working.
  const tokens = new Map<string, Date>();
  const issued: string[] = [];
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
    const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
      ? new URLSearchParams(body.toString('utf8'))
      : undefined;
    const target = form ? `STS.${form.get('Action') ?? ''}` : String(req.headers['x-amz-target'] ?? '');
    const call: RecordedCall = {
      n: calls.length + 1,
      target,
      host: String(req.headers.host ?? ''),
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
    const signer = keys.get(call.keyId);
    const signerRole = signer && 'roleArn' in signer ? signer : undefined;
    if (signerRole) call.signedAsRole = signerRole.roleArn;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    res.on('finish', () => (call.answeredAt = Date.now()));
    if (form) return assumeRole(call, form, res, signerRole);
    if (call.verified && signerRole && signerRole.expiresAt.getTime() <= Date.now()) {
      call.verified = false;
      call.rejection = 'session ended';
    }
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
    if (call.rejection === 'session ended')
      return send(400, {
        __type: 'ExpiredTokenException',
        message: 'The security token included in the request is expired',
      });
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
        const end = signerRole && signerRole.expiresAt < call.expiresAt ? signerRole.expiresAt : call.expiresAt;
        tokens.set(call.password, end);
        issued.push(call.password);
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

  // awsQuery as client-sts speaks it: a form POST, an XML answer, errors as <ErrorResponse> with 403 or 400.
  function assumeRole(call: RecordedCall, form: URLSearchParams, res: ServerResponse, signerRole?: IssuedKey): void {
    const xml = (status: number, text: string): void => {
      res
        .writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomBytes(8).toString('hex') })
        .end(text);
    };
    const error = (status: number, code: string, message: string): void =>
      xml(
        status,
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
      );
    const roleArn = form.get('RoleArn') ?? '';
    call.roleArn = roleArn;
    call.roleSessionName = form.get('RoleSessionName') ?? undefined;
    call.externalIdSent = form.has('ExternalId');
    if (form.has('DurationSeconds')) call.durationSeconds = Number(form.get('DurationSeconds'));
    if (call.target !== STS_ASSUME_ROLE || form.get('Version') !== '2011-06-15')
      return error(
        400,
        'InvalidAction',
        `Could not find operation ${call.target.slice(4)} for version ${form.get('Version') ?? ''}`,
      );
    if (call.service !== 'sts' && call.verified)
      return error(403, 'SignatureDoesNotMatch', 'Credential should be scoped to correct service: sts.');
    if (call.rejection === 'unknown key' || call.rejection === 'session token')
      return error(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (!call.verified)
      return error(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    if (signerRole && signerRole.expiresAt.getTime() <= Date.now())
      return error(400, 'ExpiredToken', 'The security token included in the request is expired');
    if (disabledStsRegions.has(call.region))
      return error(
        403,
        'RegionDisabledException',
        `STS is not activated in this region for account. Your account administrator can activate STS in this region using the IAM Console.`,
      );
    const role = roles.get(roleArn);
    const denied = () =>
      error(
        403,
        'AccessDenied',
        `User: arn:aws:iam::000000000000:user/${call.keyId} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    if (!role || !role.trusted.includes(call.keyId)) return denied();
    if ((role.externalId ?? null) !== form.get('ExternalId')) return denied();
    const seconds = role.sessionSeconds ?? 3600;
    // Role chaining (temporary keys assuming a role) is capped at one hour, as STS does.
    if (call.durationSeconds !== undefined && call.durationSeconds > 3600 && call.keyId.startsWith('ASIA'))
      return error(
        400,
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    const key: IssuedKey = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(120).toString('base64'),
      roleArn,
      expiresAt: new Date(Date.now() + seconds * 1000),
    };
    keys.set(key.accessKeyId, key);
    issued.push(key.secretAccessKey, key.sessionToken!);
    call.issuedKeyId = key.accessKeyId;
    call.sessionEndsAt = key.expiresAt;
    const name = roleArn.slice(roleArn.lastIndexOf('/') + 1);
    const account = roleArn.split(':')[4];
    return xml(
      200,
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><SourceIdentity/><AssumedRoleUser><AssumedRoleId>AROA${randomBytes(8).toString('hex').toUpperCase()}:${call.roleSessionName ?? ''}</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/${name}/${call.roleSessionName ?? ''}</Arn></AssumedRoleUser><Credentials><AccessKeyId>${key.accessKeyId}</AccessKeyId><SecretAccessKey>${key.secretAccessKey}</SecretAccessKey><SessionToken>${key.sessionToken!}</SessionToken><Expiration>${key.expiresAt.toISOString()}</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    );
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
    tokenAccepted: (password, at = new Date()) => {
      const end = tokens.get(password);
      return end !== undefined && at.getTime() < end.getTime();
    },
    issuedSecrets: () => [...issued],
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
