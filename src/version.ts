// The agent's version, set at build time from package.json.
declare const __REGISTRY_LOGIN_VERSION__: string | undefined;

/** The version printed by --version and the helper's `version`. */
export const VERSION: string =
  typeof __REGISTRY_LOGIN_VERSION__ === 'string' ? __REGISTRY_LOGIN_VERSION__ : '0.0.0-dev';
