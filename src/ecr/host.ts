// Recognises ECR registry hostnames in every AWS partition: at least the hosts amazon-ecr-credential-helper accepts.
import type { EcrLocation } from '../types.js';

// Either separator (dkr.ecr or dkr-ecr) goes with every domain, as the credential helper's own pattern allows;
// only the domain says whether the endpoint is dual-stack.
const PRIVATE =
  /^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9][a-z0-9_-]*)\.(amazonaws\.com|amazonaws\.com\.cn|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;
const DUAL_STACK_DOMAINS = new Set(['on.aws', 'on.amazonwebservices.com.cn']);
const PUBLIC_HOSTS = new Set(['public.ecr.aws', 'ecr-public.aws.com']);

/** Reads account, region, FIPS and dual-stack from a registry key, or undefined when it is not ECR. */
export function parseEcrHost(key: string): EcrLocation | undefined {
  // A key may carry :443; any other port is not an ECR endpoint.
  const host = key.toLowerCase().replace(/:443$/, '');
  if (PUBLIC_HOSTS.has(host)) {
    const dnsSuffix = host.endsWith('.aws') ? 'aws' : 'aws.com';
    return { public: true, region: 'us-east-1', fips: false, dualStack: false, dnsSuffix };
  }
  const m = PRIVATE.exec(host);
  if (!m) return undefined;
  const [, accountId, fips, region, dnsSuffix] = m as unknown as [string, string, string | undefined, string, string];
  return {
    public: false,
    accountId,
    region,
    fips: fips !== undefined,
    dualStack: DUAL_STACK_DOMAINS.has(dnsSuffix),
    dnsSuffix,
  };
}
