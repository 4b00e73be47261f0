// devcontainer-feature.json: valid against the Feature metadata schema's documented properties. What its
// commands and options do is shown by running them (test/feature/install-sh.test.ts).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureMetadataProblems, semver } from '../support/feature-metadata-schema.js';
import { repoRoot } from '../support/feature-stage.js';

const read = (file: string) => readFile(path.join(repoRoot, file), 'utf8');
const metadata = JSON.parse(await read('devcontainer-feature.json')) as Record<string, unknown> & {
  options: Record<string, { type: string; default: string | boolean }>;
  installsAfter: string[];
  postCreateCommand: string;
  postStartCommand: string;
  postAttachCommand: string;
};

describe('devcontainer-feature.json', () => {
  it('has only properties the Feature schema documents, each of the documented type', () => {
    expect(featureMetadataProblems(metadata)).toEqual([]);
  });

  it('is registry-login at a semver version equal to the agent it packages', async () => {
    const pkg = JSON.parse(await read('package.json')) as { version: string };
    expect(metadata.id).toBe('registry-login');
    expect(metadata.version).toMatch(semver);
    expect(metadata.version).toBe(pkg.version);
    expect(metadata.name).toEqual(expect.any(String));
    expect(metadata.description).toEqual(expect.any(String));
    expect(metadata.documentationURL).toMatch(/^https:\/\//);
  });

  it('installs after the Node.js and common-utils Features', () => {
    expect(metadata.installsAfter).toEqual(
      expect.arrayContaining(['ghcr.io/devcontainers/features/node', 'ghcr.io/devcontainers/features/common-utils']),
    );
  });

  // What the lifecycle commands, the options and the pinned Node.js hashes do is shown by running them:
  // test/feature/install-sh.test.ts runs the metadata's postCreate/postStart/postAttach commands against the
  // installed agent ("the lifecycle hook"), each option through install.sh, and the default nodeVersion (read
  // from this file) through the bin/node hash install.sh carries ("a private Node.js ...").
  it('names a hook command for creation, every start and every attach', () => {
    for (const hook of ['postCreateCommand', 'postStartCommand', 'postAttachCommand'] as const) {
      expect(metadata[hook]).toEqual(expect.any(String));
    }
  });

  it('gives every option a default of its type, and the default nodeVersion is an exact release of 22.12 or later', () => {
    for (const [name, option] of Object.entries(metadata.options)) {
      expect(typeof option.default, name).toBe(option.type);
    }
    const [major = 0, minor = 0] = String(metadata.options.nodeVersion?.default).split('.').map(Number);
    expect(String(metadata.options.nodeVersion?.default)).toMatch(/^\d+\.\d+\.\d+$/);
    expect(major > 22 || (major === 22 && minor >= 12)).toBe(true);
  });
});

describe('the schema check itself', () => {
  const valid = { id: 'x', version: '1.0.0' };
  it.each([
    ['a missing version', { id: 'x' }, 'version is required'],
    ['an unknown property', { ...valid, documentationUrl: 'https://x' }, 'unknown property documentationUrl'],
    ['a wrongly typed property', { ...valid, installsAfter: 'node' }, 'installsAfter must be an array of strings'],
    ['a string option without a default', { ...valid, options: { a: { type: 'string' } } }, 'options.a matches none'],
    [
      'a boolean option with a string default',
      { ...valid, options: { a: { type: 'boolean', default: 'true' } } },
      'options.a matches none',
    ],
    [
      'an option with both enum and proposals',
      { ...valid, options: { a: { type: 'string', default: 'x', enum: ['x'], proposals: ['y'] } } },
      'options.a matches none',
    ],
    [
      'an enum default outside the enum',
      { ...valid, options: { a: { type: 'string', default: 'z', enum: ['x'] } } },
      'not one of its enum values',
    ],
    [
      'a lifecycle command of numbers',
      { ...valid, postCreateCommand: [1] },
      'postCreateCommand must be a lifecycle command',
    ],
    ['a mount of an unknown type', { ...valid, mounts: [{ type: 'tmpfs', target: '/x' }] }, 'mounts[0].type must be'],
  ])('rejects %s', (_label, doc, message) => {
    expect(featureMetadataProblems(doc).join('\n')).toContain(message);
  });

  it('accepts every documented lifecycle command form', () => {
    expect(
      featureMetadataProblems({
        ...valid,
        postCreateCommand: 'a',
        postStartCommand: ['a', 'b'],
        postAttachCommand: { one: 'a', two: ['b'] },
      }),
    ).toEqual([]);
  });
});
