// Which registry keys are ECR, and what region, FIPS and dual-stack flags they carry (README, What it does: kinds).
import { describe, expect, it } from 'vitest';
import { parseEcrHost } from '../../src/ecr/host.js';
import { classifyLogin, normalizeRegistryKey } from '../../src/registry.js';

type Expected = { region: string; fips?: boolean; dualStack?: boolean; public?: boolean; accountId?: string };

const ACCEPTED: [string, Expected][] = [
  // commercial
  ['123456789012.dkr.ecr.us-east-1.amazonaws.com', { region: 'us-east-1', accountId: '123456789012' }],
  ['123456789012.dkr.ecr.eu-central-2.amazonaws.com', { region: 'eu-central-2' }],
  ['123456789012.dkr.ecr.ap-southeast-5.amazonaws.com', { region: 'ap-southeast-5' }],
  ['123456789012.dkr.ecr.mx-central-1.amazonaws.com:443', { region: 'mx-central-1' }],
  ['123456789012.dkr.ecr-fips.us-east-2.amazonaws.com', { region: 'us-east-2', fips: true }],
  // GovCloud (same DNS suffix, its own regions)
  ['123456789012.dkr.ecr.us-gov-west-1.amazonaws.com', { region: 'us-gov-west-1' }],
  ['123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com', { region: 'us-gov-east-1', fips: true }],
  // China
  ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', { region: 'cn-north-1' }],
  ['123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn', { region: 'cn-northwest-1' }],
  // EU sovereign cloud
  ['123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu', { region: 'eusc-de-east-1' }],
  // ISO partitions
  ['123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov', { region: 'us-iso-east-1' }],
  ['123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov', { region: 'us-isob-east-1' }],
  ['123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk', { region: 'eu-isoe-west-1' }],
  ['123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov', { region: 'us-isof-south-1' }],
  ['123456789012.dkr.ecr-fips.us-iso-west-1.c2s.ic.gov', { region: 'us-iso-west-1', fips: true }],
  // dual-stack
  ['123456789012.dkr-ecr.us-west-2.on.aws', { region: 'us-west-2', dualStack: true }],
  ['123456789012.dkr-ecr-fips.us-east-1.on.aws', { region: 'us-east-1', fips: true, dualStack: true }],
  ['123456789012.dkr-ecr.us-gov-west-1.on.aws', { region: 'us-gov-west-1', dualStack: true }],
  ['123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn', { region: 'cn-north-1', dualStack: true }],
  // either separator with every domain, as the credential helper's pattern allows; the domain decides dual-stack
  ['123456789012.dkr-ecr.us-east-1.amazonaws.com', { region: 'us-east-1' }],
  ['123456789012.dkr-ecr-fips.us-gov-west-1.amazonaws.com', { region: 'us-gov-west-1', fips: true }],
  ['123456789012.dkr-ecr.cn-north-1.amazonaws.com.cn', { region: 'cn-north-1' }],
  ['123456789012.dkr-ecr.eusc-de-east-1.amazonaws.eu', { region: 'eusc-de-east-1' }],
  ['123456789012.dkr-ecr.us-iso-east-1.c2s.ic.gov', { region: 'us-iso-east-1' }],
  ['123456789012.dkr-ecr.us-isob-east-1.sc2s.sgov.gov', { region: 'us-isob-east-1' }],
  ['123456789012.dkr-ecr.eu-isoe-west-1.cloud.adc-e.uk', { region: 'eu-isoe-west-1' }],
  ['123456789012.dkr-ecr-fips.us-isof-south-1.csp.hci.ic.gov', { region: 'us-isof-south-1', fips: true }],
  ['123456789012.dkr.ecr.us-east-1.on.aws', { region: 'us-east-1', dualStack: true }],
  ['123456789012.dkr.ecr-fips.us-east-1.on.aws', { region: 'us-east-1', fips: true, dualStack: true }],
  // its region label admits underscores and capitals; keys are lower case
  ['123456789012.dkr.ecr.US_EAST-1.amazonaws.com', { region: 'us_east-1' }],
  // ECR Public: its API lives in us-east-1 whatever the caller's region
  ['public.ecr.aws', { region: 'us-east-1', public: true }],
  ['ecr-public.aws.com', { region: 'us-east-1', public: true }],
  ['public.ecr.aws:443', { region: 'us-east-1', public: true }],
];

const REJECTED: [string, string][] = [
  ['123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example', 'ECR host as a prefix of another domain'],
  ['123456789012.dkr.ecr.us-east-1.amazonaws.com.cn.evil.example', 'China host as a prefix'],
  ['123456789012.dkr.ecr.us-east-1.on.aws.evil.example', 'dual-stack host as a prefix'],
  ['evil.example.123456789012.dkr.ecr.us-east-1.amazonaws.com', 'extra labels in front'],
  ['x123456789012.dkr.ecr.us-east-1.amazonaws.com', 'account with a letter'],
  ['12345678901.dkr.ecr.us-east-1.amazonaws.com', 'eleven-digit account'],
  ['1234567890123.dkr.ecr.us-east-1.amazonaws.com', 'thirteen-digit account'],
  ['123456789012.dkr.ecr.amazonaws.com', 'no region'],
  ['123456789012.dkr.ecr.us-east-1.evil.amazonaws.com', 'dotted region'],
  ['123456789012.dkr.ecr.-us-east-1.amazonaws.com', 'region starting with a hyphen'],
  ['123456789012.dkr.ecr.us-east-1.amazonaws.org', 'wrong top-level domain'],
  ['123456789012.dkr.ecr.us-east-1.amazonaws.co', 'truncated suffix'],
  ['123456789012.dkr.ecr.us-east-1.amazonawsXcom', 'dot replaced'],
  ['123456789012.dkrXecr.us-east-1.amazonaws.com', 'dot between dkr and ecr replaced'],
  ['123456789012.dkr.ecr-fipsx.us-east-1.amazonaws.com', 'bad FIPS marker'],
  ['123456789012.ecr.us-east-1.amazonaws.com', 'no dkr label'],
  ['api.ecr.us-east-1.amazonaws.com', 'the ECR API endpoint is not a registry'],
  ['123456789012.dkr.ecr.us-east-1.amazonaws.com:5000', 'a port other than 443'],
  ['123456789012.dkr-ecr.us-east-1.on.aws.cn', 'made-up dual-stack suffix'],
  ['public.ecr.aws.evil.example', 'ECR Public as a prefix'],
  ['evil-public.ecr.aws', 'look-alike of ECR Public'],
  ['xpublic.ecr.aws', 'look-alike of ECR Public'],
  ['ecr-public.aws.com.evil.example', 'ECR Public alias as a prefix'],
  ['public.ecr.aws:8443', 'ECR Public on another port'],
  ['ghcr.io', 'another registry'],
  ['localhost:5000', 'a local registry'],
  ['', 'empty'],
];

describe('parseEcrHost', () => {
  it.each(ACCEPTED)('accepts %s', (host, expected) => {
    const location = parseEcrHost(host);
    expect(location).toBeDefined();
    expect(location).toMatchObject({
      region: expected.region,
      fips: expected.fips ?? false,
      dualStack: expected.dualStack ?? false,
      public: expected.public ?? false,
      ...(expected.accountId ? { accountId: expected.accountId } : {}),
    });
  });

  it.each(REJECTED)('rejects %s (%s)', (host) => {
    expect(parseEcrHost(host)).toBeUndefined();
  });

  it('accepts what a user pastes as SERVER, once it is a docker key', () => {
    for (const server of [
      'https://123456789012.dkr.ecr.us-west-2.amazonaws.com/',
      'HTTPS://123456789012.DKR.ECR.US-WEST-2.AMAZONAWS.COM/repo/image',
      ' 123456789012.dkr.ecr.us-west-2.amazonaws.com ',
    ]) {
      const keyed = normalizeRegistryKey(server);
      expect(keyed.ok && parseEcrHost(keyed.key)?.region).toBe('us-west-2');
    }
  });
});

// The whole TestExtractRegistry table of awslabs/amazon-ecr-credential-helper, ecr-login/api/client_test.go at
// commit 2a415207a26f863ec43c4eaf17cccd6159d17c27 (the file last changed in 72dfb228f066002bcaba4badac55037ebc53009d).
// Its inputs are server URLs, so each passes through the SERVER → key rule first, as a user's SERVER would.
type Upstream = { accountId?: string; region: string; fips?: boolean; public?: true };
const UPSTREAM_ACCEPTED: [string, Upstream][] = [
  [
    'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/blah/blah',
    { accountId: '123456789012', region: 'us-east-1' },
  ],
  ['123456789012.dkr.ecr.us-west-2.amazonaws.com', { accountId: '123456789012', region: 'us-west-2' }],
  ['123456789012.dkr-ecr.us-west-2.on.aws', { accountId: '123456789012', region: 'us-west-2' }],
  ['123456789012.dkr-ecr-fips.us-west-2.on.aws', { accountId: '123456789012', region: 'us-west-2', fips: true }],
  ['210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn/foo', { accountId: '210987654321', region: 'cn-north-1' }],
  ['210987654321.dkr.ecr.cn-north-1.on.amazonwebservices.com.cn', { accountId: '210987654321', region: 'cn-north-1' }],
  ['210987654321.dkr.ecr.us-iso-east-1.c2s.ic.gov', { accountId: '210987654321', region: 'us-iso-east-1' }],
  ['123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov', { accountId: '123456789012', region: 'us-isob-east-1' }],
  ['123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk', { accountId: '123456789012', region: 'eu-isoe-west-1' }],
  ['123456789012.dkr.ecr.us-isof-east-1.csp.hci.ic.gov', { accountId: '123456789012', region: 'us-isof-east-1' }],
  ['123456789012.dkr-ecr.us-gov-east-1.on.aws', { accountId: '123456789012', region: 'us-gov-east-1' }],
  [
    '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
    { accountId: '123456789012', region: 'us-gov-west-1', fips: true },
  ],
  [
    '123456789012.dkr-ecr-fips.us-gov-east-1.on.aws',
    { accountId: '123456789012', region: 'us-gov-east-1', fips: true },
  ],
  ['123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu', { accountId: '123456789012', region: 'eusc-de-east-1' }],
  ['https://public.ecr.aws', { region: 'us-east-1', public: true }],
  ['https://ecr-public.aws.com', { region: 'us-east-1', public: true }],
  ['public.ecr.aws', { region: 'us-east-1', public: true }],
  ['ecr-public.aws.com', { region: 'us-east-1', public: true }],
  ['https://public.ecr.aws/amazonlinux', { region: 'us-east-1', public: true }],
  ['https://ecr-public.aws.com/amazonlinux', { region: 'us-east-1', public: true }],
];
const UPSTREAM_REJECTED: string[] = [
  '.dkr.ecr.not-real.amazonaws.com',
  'not.ecr.io',
  'https://123456789012.dkr.ecr.us-west-2.amazonaws.com.fake.example.com/image:latest',
  '123456789012.dkr.ecr.us-west-2.amazonaws.com.fake.example.com',
  '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com.fake.example.com',
  '210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn.fake.example.com.cn',
  '210987654321.dkr.ecr.cn-north-1.on.aws.com.cn',
  'https://public.ecr.aws.fake.example.com',
  'public.ecr.aws.fake.example.com',
];

/** What this project makes of a SERVER value: its key's ECR location, or undefined when it is no ECR registry. */
function ecrOfServer(server: string) {
  const keyed = normalizeRegistryKey(server);
  return keyed.ok ? parseEcrHost(keyed.key) : undefined;
}

describe('amazon-ecr-credential-helper host table', () => {
  it.each(UPSTREAM_ACCEPTED)('accepts %s', (server, expected) => {
    const location = ecrOfServer(server);
    expect(location).toMatchObject({
      region: expected.region,
      fips: expected.fips ?? false,
      public: expected.public ?? false,
    });
    expect(location?.accountId).toBe(expected.accountId);
  });

  it.each(UPSTREAM_REJECTED)('rejects %s', (server) => {
    expect(ecrOfServer(server)).toBeUndefined();
  });
});

describe('classifyLogin for ECR hosts', () => {
  it.each([
    ['123456789012.dkr.ecr.us-west-2.amazonaws.com', 'AKIAEXAMPLE', 'ecr-keys'],
    ['123456789012.dkr.ecr.us-west-2.amazonaws.com', 'AWS', 'ecr-token'],
    ['public.ecr.aws', 'AKIAEXAMPLE', 'ecr-public-keys'],
    ['ecr-public.aws.com', 'AWS', 'ecr-token'],
    ['ecr-public.aws.com', 'AKIAEXAMPLE', 'ecr-public-keys'],
    ['123456789012.dkr-ecr.us-west-2.amazonaws.com', 'AKIAEXAMPLE', 'ecr-keys'],
    // USER must be exactly AWS to mean "the password is a token"
    ['123456789012.dkr.ecr.us-west-2.amazonaws.com', 'aws', 'ecr-keys'],
    ['123456789012.dkr.ecr.us-west-2.amazonaws.com.evil.example', 'AKIAEXAMPLE', 'static'],
  ])('%s with USER %s is %s', (key, user, kind) => {
    expect(classifyLogin(key, user).kind).toBe(kind);
  });
});
