import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseTree, type Node as JsonNode } from 'jsonc-parser';
import { findDuplicateKey } from '../../src/docker-config/duplicate-keys.js';

// The oracle: jsonc-parser's full tree.
function byTree(text: string): string | undefined {
  const root = parseTree(text);
  const check = (node: JsonNode | undefined, where: string): string | undefined => {
    if (!node || node.type !== 'object') return undefined;
    const seen = new Set<string>();
    for (const property of node.children ?? []) {
      const name = property.children?.[0]?.value as string;
      if (seen.has(name)) return `${JSON.stringify(name)}${where}`;
      seen.add(name);
    }
    return undefined;
  };
  const member = (name: string): JsonNode | undefined =>
    root?.children?.find((p) => p.children?.[0]?.value === name)?.children?.[1];
  return check(root, '') ?? check(member('auths'), ' in "auths"') ?? check(member('credHelpers'), ' in "credHelpers"');
}

// JSON text with possible duplicate keys: objects written member by member from generated pairs.
const key = fc.oneof(
  fc.constantFrom('auths', 'credHelpers', 'a', 'b', 'x"y', 'back\\slash', ''),
  fc.string({ maxLength: 4 }),
);
const leaf = fc.oneof(
  fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
  fc.integer().map(String),
  fc.constantFrom('null', 'true', '[]', '{}', '"\\"quoted\\":"', '"{\\"a\\":1}"'),
);
const value: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .array(fc.tuple(key, tie('value')), { maxLength: 4 })
      .map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)} : ${v}`).join(', ')}}`),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => `[ ${items.join(',')} ]`),
  ),
})).value;
const document = fc
  .array(fc.tuple(key, value), { maxLength: 6 })
  .map((members) => `{\n${members.map(([k, v]) => `  ${JSON.stringify(k)}: ${v}`).join(',\n')}\n}`);

describe('findDuplicateKey', () => {
  it('agrees with a full parse tree on any JSON object text', () => {
    fc.assert(
      fc.property(document, (text) => {
        JSON.parse(text);
        expect(findDuplicateKey(text)).toBe(byTree(text));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['{"auths": {"a": {}, "a": {}}}', '"a" in "auths"'],
    ['{"x": {"a": 1, "a": 2}}', undefined],
    ['{"auths": {"k": {"auth": "x", "auth": "y"}}}', undefined],
    ['{"credsStore": "a", "credsStore": "b"}', '"credsStore"'],
    ['{"s": "\\\\", "s": 1}', '"s"'],
  ])('%s → %s', (text, expected) => {
    expect(findDuplicateKey(text)).toBe(expected);
  });
});
