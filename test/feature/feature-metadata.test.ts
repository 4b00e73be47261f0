// devcontainer-feature.json: valid against the Feature metadata schema's documented properties, and
// consistent with what install.sh, the hook and the agent actually do.
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

  it('refreshes after creation, on every start and on every attach through the hook install.sh installs, which runs refresh --hook', async () => {
    const hookPath = '/usr/local/share/registry-login/hooks/refresh.sh';
    expect(metadata.postCreateCommand).toBe(`${hookPath} postCreateCommand`);
    expect(metadata.postStartCommand).toBe(`${hookPath} postStartCommand`);
    expect(metadata.postAttachCommand).toBe(`${hookPath} postAttachCommand`);
    const hook = await read('feature/hooks/refresh.sh');
    expect(hook).toContain('/usr/local/bin/registry-login refresh $mode');
    expect(hook).toContain('mode=--hook\n');
    // The attach hook keeps the logins in an environment without registry variables (an attach without the secrets).
    expect(hook).toMatch(/if \[ "\$hook" = postAttachCommand \]; then\n\s+mode="--hook --attach"/);
    const install = await read('install.sh');
    expect(install).toContain('SHARE_DIR=/usr/local/share/registry-login');
    expect(install).toMatch(/cp "\$FEATURE_DIR\/hooks\/"\*\.sh "\$staging\/hooks\/"/);
  });

  it('has every option read by install.sh under its upper-cased name with the same default', async () => {
    const install = await read('install.sh');
    expect(Object.keys(metadata.options).length).toBeGreaterThan(0);
    for (const [name, option] of Object.entries(metadata.options)) {
      const variable = name.replace(/[^\w]/g, '_').toUpperCase();
      expect(install, `install.sh reads option ${name}`).toContain(`\${${variable}:-${String(option.default)}}`);
    }
  });

  it('carries the node binary hashes for the default nodeVersion', async () => {
    const install = await read('install.sh');
    expect(install).toContain(`PINNED_NODE_VERSION=${String(metadata.options.nodeVersion?.default)}\n`);
    expect(install).toMatch(/^PINNED_NODE_SHA256_X64=[0-9a-f]{64}$/m);
    expect(install).toMatch(/^PINNED_NODE_SHA256_ARM64=[0-9a-f]{64}$/m);
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
