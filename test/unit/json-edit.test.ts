import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { editJson, editJsonMany } from '../../src/docker-config/json-edit.js';

const object = fc
  .dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }))
  .map((o) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>);
const layout = fc.constantFrom<(v: unknown) => string>(
  (v) => JSON.stringify(v),
  (v) => JSON.stringify(v, null, 2),
  (v) => JSON.stringify(v, null, '\t'),
  (v) => JSON.stringify(v, null, 4).replace(/\n/g, '\r\n'),
);
const member = fc.string().filter((k) => k !== '__proto__');

describe('editJson', () => {
  it('sets a nested member so that the parsed result is exactly the intended object', () => {
    fc.assert(
      fc.property(
        object,
        object,
        layout,
        member,
        member,
        fc.jsonValue({ maxDepth: 2 }),
        (root, inner, format, outer, key, value) => {
          const doc = { ...root, [outer]: inner };
          const normalised = JSON.parse(JSON.stringify(value)) as unknown;
          const out = editJson(format(doc), [outer, key], normalised);
          expect(JSON.parse(out)).toEqual({ ...doc, [outer]: { ...inner, [key]: normalised } });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('adding a new member and deleting it again gives back the original bytes', () => {
    fc.assert(
      fc.property(object, layout, member, member, (root, format, outer, key) => {
        fc.pre(!(outer in root));
        const text = format({ ...root, [outer]: { existing: 1 } });
        const added = editJson(text, [outer, key === 'existing' ? `${key}2` : key], { auth: 'eDp5' });
        expect(editJson(added, [outer, key === 'existing' ? `${key}2` : key], undefined)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('never changes the bytes before the edited member', () => {
    const text = '{\n  "a": [1,2,   3],\n  "auths": {\n    "x": {"auth":"eQ=="}\n  }\n}';
    const out = editJson(text, ['auths', 'y'], { auth: 'eg==' });
    expect(out.startsWith('{\n  "a": [1,2,   3],\n  "auths": {\n    "x": {"auth":"eQ=="}')).toBe(true);
  });
});

describe('editJsonMany', () => {
  const edits = fc.array(
    fc.record({
      path: fc.oneof(
        fc.tuple(fc.constantFrom('auths', 'credHelpers', 'x'), fc.constantFrom('a', 'b', 'c', 'd')),
        fc.tuple(fc.constantFrom('auths', 'credHelpers', 'y')),
      ),
      value: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }),
    }),
    { maxLength: 12 },
  );
  const start = fc.constantFrom(
    '{}',
    '{\n}',
    '{\n\t"auths": {}\n}',
    '{"auths": {"a": {"auth": "x"}}, "credHelpers": {}}',
    '{\n  "auths": {\n    "z": {}\n  },\n  "psFormat": "x"\n}',
  );

  it('gives exactly the bytes that applying the edits one by one gives', () => {
    fc.assert(
      fc.property(start, edits, (text, list) => {
        const normalised = list.map((e) => ({
          path: e.path as [string] | [string, string],
          value: e.value === undefined ? undefined : (JSON.parse(JSON.stringify(e.value)) as unknown),
        }));
        let expected: string = text;
        try {
          for (const edit of normalised) expected = editJson(expected, edit.path, edit.value);
        } catch (error) {
          // An edit below a member that is not an object is refused either way.
          expect(() => editJsonMany(text, normalised)).toThrow((error as Error).message);
          return;
        }
        expect(editJsonMany(text, normalised)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
