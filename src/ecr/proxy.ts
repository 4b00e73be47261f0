// HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY for the AWS calls, read from the environment the agent was given.
import { BlockList, isIP } from 'node:net';

/** The proxy URL for a request to target, or undefined to connect directly (curl's and proxy-from-env's rules, plus CIDR entries as Go and docker allow). */
export function proxyForUrl(target: URL, env: NodeJS.ProcessEnv): string | undefined {
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
