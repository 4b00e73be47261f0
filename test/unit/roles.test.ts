// A role on a login: which variables make one, which ARNs are accepted, where STS is asked, and the session's name.
import { describe, expect, it } from 'vitest';
import { discoverTriples } from '../../src/discover.js';
import { keyLogins } from '../../src/registry.js';
import { partitionOf, stsEndpoint } from '../../src/ecr/endpoint.js';
import { parseEcrHost } from '../../src/ecr/host.js';
import { roleSessionName } from '../../src/ecr/assume-role.js';

const KEYS = {
  R_CONTAINER_REGISTRY_SERVER: '111111111111.dkr.ecr.us-west-2.amazonaws.com',
  R_CONTAINER_REGISTRY_USER: 'AKIAEXAMPLE000000001',
  R_CONTAINER_REGISTRY_PASSWORD: 'secret',
};

describe('role members', () => {
  it('passes the role ARN and the external ID with the triple', () => {
    const { triples, problems } = discoverTriples({
      ...KEYS,
      r_container_registry_role_arn: ' arn:aws:iam::111111111111:role/ecr-pull ',
      R_CONTAINER_REGISTRY_EXTERNAL_ID: 'ext',
    });
    expect(problems).toEqual([]);
    expect(triples[0]).toMatchObject({ roleArn: 'arn:aws:iam::111111111111:role/ecr-pull', externalId: 'ext' });
  });

  it('makes a group of only optional members as incomplete as any other', () => {
    const { triples, problems } = discoverTriples({ X_CONTAINER_REGISTRY_ROLE_ARN: 'arn:aws:iam::1:role/r' });
    expect(triples).toEqual([]);
    expect(problems[0]!.message).toMatch(
      /X_CONTAINER_REGISTRY_SERVER, X_CONTAINER_REGISTRY_USER, .*PASSWORD are missing/,
    );
  });

  it.each([
    'arn:aws:iam::111111111111:role/ecr-pull',
    'arn:aws:iam::111111111111:role/team/stage/ecr-pull',
    'arn:aws-cn:iam::111111111111:role/ecr-pull',
    'arn:aws-us-gov:iam::111111111111:role/a+b=c,d.e@f-g',
    'arn:aws-iso-b:iam::111111111111:role/ecr-pull',
  ])('accepts the role ARN %s', (arn) => {
    expect(discoverTriples({ ...KEYS, R_CONTAINER_REGISTRY_ROLE_ARN: arn }).problems).toEqual([]);
  });

  it.each([
    ['a user, not a role', 'arn:aws:iam::111111111111:user/ecr-pull'],
    ['an account of 11 digits', 'arn:aws:iam::11111111111:role/ecr-pull'],
    ['no role name', 'arn:aws:iam::111111111111:role/'],
    ['an STS session ARN', 'arn:aws:sts::111111111111:assumed-role/ecr-pull/me'],
    ['a role name alone', 'my-pull-role'],
  ])('refuses %s, naming the expected shape', (_why, arn) => {
    const { triples, problems } = discoverTriples({ ...KEYS, R_CONTAINER_REGISTRY_ROLE_ARN: arn });
    expect(triples).toEqual([]);
    expect(problems[0]!.message).toContain('arn:<partition>:iam::<12-digit account>:role/<path/>name');
    expect(problems[0]!.message).not.toContain(arn);
  });

  it('refuses an external ID without a role, never echoing it', () => {
    const { problems } = discoverTriples({ ...KEYS, R_CONTAINER_REGISTRY_EXTERNAL_ID: 'ext-secret-123' });
    expect(problems[0]!.message).toMatch(
      /R_CONTAINER_REGISTRY_EXTERNAL_ID is set without R_CONTAINER_REGISTRY_ROLE_ARN/,
    );
    expect(problems[0]!.message).not.toContain('ext-secret-123');
  });

  it('makes a role on a static registry or on an ECR token a problem for that prefix', () => {
    const role = 'arn:aws:iam::111111111111:role/ecr-pull';
    const { logins, problems } = keyLogins([
      { prefix: 'S', server: 'ghcr.io', user: 'u', password: 'p', roleArn: role },
      { prefix: 'T', server: KEYS.R_CONTAINER_REGISTRY_SERVER, user: 'AWS', password: 'token', roleArn: role },
      { prefix: 'K', server: 'public.ecr.aws', user: 'AKIA', password: 'p', roleArn: role },
    ]);
    expect(logins.map((l) => [l.prefix, l.kind])).toEqual([['K', 'ecr-public-keys']]);
    expect(problems.map((p) => p.prefix)).toEqual(['S', 'T']);
  });
});

describe('where a role is assumed', () => {
  it.each([
    ['123456789012.dkr.ecr.eu-central-1.amazonaws.com', { region: 'eu-central-1', fips: false, partition: 'aws' }],
    ['123456789012.dkr.ecr-fips.us-east-2.amazonaws.com', { region: 'us-east-2', fips: true, partition: 'aws' }],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', { region: 'cn-north-1', fips: false, partition: 'aws-cn' }],
    ['123456789012.dkr-ecr.us-gov-west-1.on.aws', { region: 'us-gov-west-1', fips: false, partition: 'aws-us-gov' }],
    [
      '123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov',
      { region: 'us-isob-east-1', fips: false, partition: 'aws-iso-b' },
    ],
    ['public.ecr.aws', { region: 'us-east-1', fips: false, partition: 'aws' }],
  ])('%s: STS in its own region and partition', (host, expected) => {
    expect(stsEndpoint(parseEcrHost(host)!, {})).toEqual(expected);
  });

  it('takes AWS_ENDPOINT_URL_STS before AWS_ENDPOINT_URL, unless configured endpoints are ignored', () => {
    const location = parseEcrHost('123456789012.dkr.ecr.us-west-2.amazonaws.com')!;
    const env = { AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_STS: 'http://sts' };
    expect(stsEndpoint(location, env)).toMatchObject({ url: 'http://sts', urlVariable: 'AWS_ENDPOINT_URL_STS' });
    expect(stsEndpoint(location, { AWS_ENDPOINT_URL: 'http://a' })).toMatchObject({ url: 'http://a' });
    expect(stsEndpoint(location, { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }).url).toBeUndefined();
  });

  it('knows every partition by its regions', () => {
    expect(
      [
        'us-east-1',
        'cn-northwest-1',
        'us-gov-east-1',
        'us-iso-east-1',
        'eu-isoe-west-1',
        'us-isof-south-1',
        'eusc-de-east-1',
      ].map(partitionOf),
    ).toEqual(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-e', 'aws-iso-f', 'aws-eusc']);
  });
});

describe('the role session name', () => {
  it.each([
    ['vscode', 'registry-login-vscode'],
    ['Jane Doe/ä', 'registry-login-JaneDoe'],
    ['a'.repeat(80), `registry-login-${'a'.repeat(49)}`],
    ['x+y=z,1.2@3-4_5', 'registry-login-x+y=z,1.2@3-4_5'],
  ])('%s → %s', (user, expected) => {
    expect(roleSessionName(user)).toBe(expected);
  });
});
