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
  // The SDK's own rule (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns every configured endpoint off).
  if ((env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true') return base;
  for (const name of [service === 'ecr' ? 'AWS_ENDPOINT_URL_ECR' : 'AWS_ENDPOINT_URL_ECR_PUBLIC', 'AWS_ENDPOINT_URL']) {
    const value = env[name]?.trim();
    if (value) return { ...base, url: value, urlVariable: name };
  }
  return base;
}
