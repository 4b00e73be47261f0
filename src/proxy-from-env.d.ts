// proxy-from-env ships no types; this is the one function registry-login uses.
declare module 'proxy-from-env' {
  /** The proxy URL for url from HTTP(S)_PROXY/ALL_PROXY/NO_PROXY of process.env, or '' for none. */
  export function getProxyForUrl(url: string): string;
}
