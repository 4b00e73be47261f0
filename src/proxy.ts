// HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY, read from the environment the agent was given: the one proxy
// decision for the AWS calls and for check's registry handshakes.
import { BlockList, isIP } from 'node:net';

/**
 * The proxy URL for a request to target, or undefined to connect directly (curl's rules, plus CIDR entries as Go
 * and docker allow). Loopback targets are never proxied, as Go's client does: a proxy would see the credentials
 * (Basic auth, or the AWS key ID, session token and signature) of a request that never needed to leave the machine.
 */
export function proxyForUrl(target: URL, env: NodeJS.ProcessEnv): string | undefined {
  if (isLoopbackHost(target.hostname)) return undefined;
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

/**
 * Whether a host is loopback by its name alone (no lookup): localhost, *.localhost (RFC 6761) or a loopback address.
 */
export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare.endsWith('.localhost') || isLoopbackAddress(bare);
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether an IP address is in 127.0.0.0/8 or is ::1 (an IPv4-mapped ::ffff:127.x.y.z counts, as in Go). */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return false;
  return LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}
