import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { editJson } from '../../src/docker-config/json-edit.js';

const object = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })).map((o) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>);
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
      fc.property(object, object, layout, member, member, fc.jsonValue({ maxDepth: 2 }), (root, inner, format, outer, key, value) => {
        const doc = { ...root, [outer]: inner };
        const normalised = JSON.parse(JSON.stringify(value)) as unknown;
        const out = editJson(format(doc), [outer, key], normalised);
        expect(JSON.parse(out)).toEqual({ ...doc, [outer]: { ...inner, [key]: normalised } });
      }),
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
