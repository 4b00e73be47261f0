// The docker config's text: parsed and validated as docker would read it, and edited keeping every foreign byte.
import { findDuplicateKey } from './duplicate-keys.js';
import { ConfigError } from '../fs/errors.js';
import type { ConfigEdit } from './plan.js';

/**
 * Parses a docker config, refusing anything docker or registry-login could misread (README, Decisions: refused
 * configs).
 */
export async function parseDockerConfig(text: string | undefined, path: string): Promise<Record<string, unknown>> {
  if (text === undefined || text.trim() === '') return {};
  const bad = (what: string): ConfigError =>
    new ConfigError(
      `${path} ${what}; registry-login changed nothing. Fix or move the file, then run \`registry-login refresh\` again.`,
    );
  if (text.charCodeAt(0) === 0xfeff) throw bad('starts with a byte-order mark, which docker cannot read either');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Loaded only on this error path: the JSON parser that can say where the text is broken.
    const { describeJsonError } = await import('./json-edit.js');
    throw bad(`is not valid JSON (${describeJsonError(text, error)})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw bad(
      `holds ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not a JSON object`,
    );
  const config = value as Record<string, unknown>;
  for (const key of ['auths', 'credHelpers']) {
    const member = config[key];
    if (member !== undefined && (member === null || typeof member !== 'object' || Array.isArray(member)))
      throw bad(`has a "${key}" that is not an object`);
  }
  return config;
}

/**
 * Refuses a config whose top level, auths or credHelpers repeat a key: a targeted edit could change the copy docker
 * does not read.
 */
export function assertEditable(text: string | undefined, path: string): void {
  const duplicate = text === undefined ? undefined : findDuplicateKey(text);
  if (duplicate)
    throw new ConfigError(
      `${path} has the key ${duplicate} twice, so its meaning is ambiguous; registry-login changed nothing. Fix or move the file, then run \`registry-login refresh\` again.`,
    );
}

/**
 * Applies planned edits to the config text, leaving every other byte where it was; a new file gets docker's tab
 * indentation.
 */
export async function applyConfigEdits(text: string | undefined, edits: ConfigEdit[]): Promise<string> {
  // Loaded on first use: the JSON parser is only needed when the file changes.
  const { editJson } = await import('./json-edit.js');
  const fresh = text === undefined || text.trim() === '';
  let out = fresh ? '{\n}' : text;
  for (const edit of edits) out = editJson(out, edit.path, edit.value);
  return fresh ? `${out}\n` : out;
}
