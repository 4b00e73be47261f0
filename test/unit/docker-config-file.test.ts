import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyConfigEdits, assertEditable, parseDockerConfig } from '../../src/docker-config/file.js';
import { ConfigError } from '../../src/fs/errors.js';
import { loadFile } from '../../src/fs/read-file.js';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rl-file-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('parseDockerConfig', () => {
  it.each([
    ['[]', 'an array'],
    ['"text"', 'a string'],
    ['null', 'null'],
    ['42', 'a number'],
    ['{"auths": []}', '"auths" that is not an object'],
    ['{"credHelpers": "x"}', '"credHelpers" that is not an object'],
    ['{"auths": {}', 'not valid JSON'],
    ['{"a": 1,}', 'not valid JSON'],
    ['\uFEFF{}', 'byte-order mark'],
  ])('refuses %j, naming the file and the problem', async (text, problem) => {
    await expect(parseDockerConfig(text, '/home/u/.docker/config.json')).rejects.toThrowError(ConfigError);
    try {
      await parseDockerConfig(text, '/home/u/.docker/config.json');
    } catch (error) {
      expect((error as Error).message).toContain('/home/u/.docker/config.json');
      expect((error as Error).message).toContain(problem);
      expect((error as Error).message).toContain('changed nothing');
    }
  });

  it.each([
    ['{"auths": {"a": {}, "a": {}}}', 'the key "a" in "auths" twice'],
    ['{"credHelpers": {"a": "x", "b": "y", "a": "z"}}', 'the key "a" in "credHelpers" twice'],
    ['{"x": 1, "x": 2}', 'the key "x" twice'],
  ])(
    'refuses to edit %j, whose duplicate key makes an edit ambiguous (reading takes the last, as docker does)',
    async (text, problem) => {
      await expect(parseDockerConfig(text, '/c.json')).resolves.toBeTypeOf('object');
      expect(() => assertEditable(text, '/c.json')).toThrowError(new RegExp(`/c\\.json has ${problem}`));
      expect(assertEditable('{"x": {"a": 1}, "y": {"a": 2}}', '/c.json')).toBeUndefined();
    },
  );

  it.each([
    '{"auths": {"x": {"auth": c2VjcmV0OnNlY3JldA}}}',
    'S3cretPassw0rdPastedRaw',
    '{"auths": {"x": {"auth": "c2VjcmV0OnNlY3JldA==" "y"}}}',
    '{"auths": {"x": {"auth": "c2VjcmV0OnNlY3JldA==',
  ])(
    'says where %j is broken without quoting it (a config holds credentials the redactor does not know)',
    async (text) => {
      let message = '';
      try {
        await parseDockerConfig(text, '/c.json');
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(
        /not valid JSON \((.+ at line \d+, column \d+|unexpected character|it ends before the JSON is complete, as if cut off)\)/,
      );
      for (const secret of ['c2VjcmV0', 'S3cret', 'Passw0rd']) expect(message).not.toContain(secret);
    },
  );

  it('refuses a file on disk that starts with a byte-order mark (the decoder must not drop it, or the BOM is silently removed)', async () => {
    const dir = await tmp();
    await writeFile(join(dir, 'config.json'), '\uFEFF{"auths": {}}');
    const file = loadFile(join(dir, 'config.json'));
    await expect(parseDockerConfig(file.text, file.path)).rejects.toThrowError(/byte-order mark/);
  });

  it('takes a missing or blank file as an empty config, as docker does', async () => {
    expect(await parseDockerConfig(undefined, 'p')).toEqual({});
    expect(await parseDockerConfig(' \n', 'p')).toEqual({});
  });
});

describe('applyConfigEdits', () => {
  it('changes only the edited entries and keeps every other byte, order and indentation', async () => {
    const text =
      '{\n    "psFormat": "table {{.ID}}",\n    "auths": {\n        "other.io": {"auth": "eDp5"}\n    },\n    "10": true,\n    "z": [1, 2]\n}\n';
    const out = await applyConfigEdits(text, [
      { path: ['auths', 'ghcr.io'], value: { auth: 'YTpi' } },
      { path: ['credHelpers', 'ghcr.io'], value: 'registry-login' },
    ]);
    expect(
      out.startsWith(
        '{\n    "psFormat": "table {{.ID}}",\n    "auths": {\n        "other.io": {"auth": "eDp5"},\n        "ghcr.io": {\n            "auth": "YTpi"\n        }\n    },\n    "10": true,\n    "z": [1, 2]',
      ),
    ).toBe(true);
    expect(JSON.parse(out)).toEqual({
      psFormat: 'table {{.ID}}',
      auths: { 'other.io': { auth: 'eDp5' }, 'ghcr.io': { auth: 'YTpi' } },
      10: true,
      z: [1, 2],
      credHelpers: { 'ghcr.io': 'registry-login' },
    });
    const back = await applyConfigEdits(out, [
      { path: ['auths', 'ghcr.io'], value: undefined },
      { path: ['credHelpers'], value: undefined },
    ]);
    expect(back).toBe(text);
  });

  it("writes a new file with docker's tab indentation", async () => {
    expect(await applyConfigEdits(undefined, [{ path: ['auths', 'a.io'], value: { auth: 'x' } }])).toBe(
      '{\n\t"auths": {\n\t\t"a.io": {\n\t\t\t"auth": "x"\n\t\t}\n\t}\n}\n',
    );
  });

  it('keeps large numbers and unusual strings exactly as written', async () => {
    const text = '{"big": 12345678901234567890123, "s": "\\u00e9\\n", "auths": {}}';
    const out = await applyConfigEdits(text, [{ path: ['auths', 'a.io'], value: { auth: 'x' } }]);
    expect(out).toContain('"big": 12345678901234567890123, "s": "\\u00e9\\n"');
  });
});
