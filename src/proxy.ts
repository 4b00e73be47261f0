// HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY, read from the environment the agent was given: the one proxy
// decision for the AWS calls and for check's registry handshakes.
import { BlockList, isIP } from 'node:net';

/**
 * The proxy URL for a request to target, or undefined to connect directly (curl's rules, plus CIDR entries as Go
 * and docker allow). With loopback 'direct', loopback targets are never proxied, as docker's Go client does.
 */
export function proxyForUrl(target: URL, env: NodeJS.ProcessEnv, options: { loopback?: 'direct' | 'as-configured' } = {}): string | undefined {
  if (options.loopback === 'direct' && isLoopbackHost(target.hostname)) return undefined;
  const scheme = target.protocol.replace(/:$/, '');
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(target.port) || (scheme === 'https' ? 443 : 80);
  if (bypassed(host, port, pick(env, 'no_proxy') ?? '')) return undefined;
  const proxy = pick(env, `${scheme}_proxy`) ?? pick(env, 'all_proxy');
  if (!proxy) return undefined;
  return proxy.includes('://') ? proxy : `http://${proxy}`;
}

// Lower case wins, as in curl; an empty value counts as unset.
function pick(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name.toLowerCase()]?.trim() || env[name.toUpperCase()]?.trim() || undefined;
}

function bypassed(host: string, port: number, noProxy: string): boolean {
  for (const raw of noProxy.toLowerCase().split(/[\s,]+/)) {
    if (!raw) continue;
    if (raw === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(raw)!;
    let entry = m[1]!.replace(/^\[|\]$/g, '');
    if (m[2] !== undefined && Number(m[2]) !== port) continue;
    if (entry.includes('/')) {
      if (cidrContains(entry, host)) return true;
      continue;
    }
    entry = entry.replace(/^\*?\./, '');
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

function cidrContains(cidr: string, host: string): boolean {
  const [network, bits] = cidr.split('/');
  const family = isIP(network ?? '');
  if (!family || isIP(host) !== family) return false;
  const list = new BlockList();
  try {
    list.addSubnet(network!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
  return list.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** Whether a host name is loopback: docker treats 127.0.0.0/8 and ::1 (and so localhost) as insecure registries. */
export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
}
