// Which ECR API a swap talks to: the service, its endpoint flavour, and the endpoint the standard AWS variables set.
import type { EcrLocation } from '../types.js';

export type EcrService = 'ecr' | 'ecr-public';

/** Everything that decides which AWS endpoint answers a swap (the "endpoint flavour" of the README's ECR swap). */
export interface EcrEndpoint {
  service: EcrService;
  /** ECR Public's API is in us-east-1 whatever the registry. */
  region: string;
  fips: boolean;
  dualStack: boolean;
  /** An endpoint URL set by AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL_ECR_PUBLIC / AWS_ENDPOINT_URL. */
  url?: string;
  /** The variable that set url, for messages. */
  urlVariable?: string;
}

/** The endpoint a registry's token comes from; the variables are read from env, never from ~/.aws/config. */
export function ecrEndpoint(location: EcrLocation, env: NodeJS.ProcessEnv): EcrEndpoint {
  const service: EcrService = location.public ? 'ecr-public' : 'ecr';
  const base = location.public
    ? { service, region: 'us-east-1', fips: false, dualStack: false }
    : { service, region: location.region, fips: location.fips, dualStack: location.dualStack };
  return {
    ...base,
    ...configuredEndpoint(service === 'ecr' ? 'AWS_ENDPOINT_URL_ECR' : 'AWS_ENDPOINT_URL_ECR_PUBLIC', env),
  };
}

/** Where a role is assumed: STS in the region of the registry that needs it first (README, Roles). */
export interface StsEndpoint {
  region: string;
  /** sts-fips where that registry's host is FIPS. */
  fips: boolean;
  /** The AWS partition: a role's credentials from one regional endpoint work in every region of it. */
  partition: string;
  /** An endpoint URL set by AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL. */
  url?: string;
  urlVariable?: string;
}

/** The regional STS endpoint for a registry (never the global sts.amazonaws.com); variables as for ECR. */
export function stsEndpoint(location: EcrLocation, env: NodeJS.ProcessEnv): StsEndpoint {
  // ECR Public's API, and so its role, lives in us-east-1.
  const region = location.public ? 'us-east-1' : location.region;
  return {
    region,
    fips: !location.public && location.fips,
    partition: partitionOf(region),
    ...configuredEndpoint('AWS_ENDPOINT_URL_STS', env),
  };
}

// The SDK's partition table (regionRegex of @aws-sdk's partitions): every other region is in aws.
const PARTITIONS: [RegExp, string][] = [
  [/^cn-\w+-\d+$/, 'aws-cn'],
  [/^us-gov-\w+-\d+$/, 'aws-us-gov'],
  [/^us-iso-\w+-\d+$/, 'aws-iso'],
  [/^us-isob-\w+-\d+$/, 'aws-iso-b'],
  [/^eu-isoe-\w+-\d+$/, 'aws-iso-e'],
  [/^us-isof-\w+-\d+$/, 'aws-iso-f'],
  [/^eusc-de-\w+-\d+$/, 'aws-eusc'],
];

/** The AWS partition a region belongs to. */
export function partitionOf(region: string): string {
  return PARTITIONS.find(([pattern]) => pattern.test(region))?.[1] ?? 'aws';
}

// The SDK's own rule: the service's variable, then AWS_ENDPOINT_URL (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns both
// off); read from env, never from ~/.aws/config.
function configuredEndpoint(serviceVariable: string, env: NodeJS.ProcessEnv): { url?: string; urlVariable?: string } {
  if ((env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true') return {};
  for (const name of [serviceVariable, 'AWS_ENDPOINT_URL']) {
    const value = env[name]?.trim();
    if (value) return { url: value, urlVariable: name };
  }
  return {};
}
