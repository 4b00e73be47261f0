import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { editJson } from '../../src/docker-config/json-edit.js';

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

describe('editJson, edit after edit', () => {
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

  /** The same edits made to the parsed object: what the text must parse to afterwards. */
  function applyToObject(config: Record<string, unknown>, path: [string] | [string, string], value: unknown): void {
    const [first, second] = path;
    if (second === undefined) {
      if (value === undefined) delete config[first];
      else config[first] = value;
      return;
    }
    if (!Object.hasOwn(config, first)) {
      if (value !== undefined) config[first] = { [second]: value };
      return;
    }
    const container = config[first];
    if (typeof container !== 'object' || container === null || Array.isArray(container))
      throw new Error(`"${first}" is not an object`);
    if (value === undefined) delete (container as Record<string, unknown>)[second];
    else (container as Record<string, unknown>)[second] = value;
  }

  it('gives text that parses to the object the same edits give, or refuses an edit below a non-object', () => {
    fc.assert(
      fc.property(start, edits, (text, list) => {
        let out: string = text;
        const expected = JSON.parse(text) as Record<string, unknown>;
        for (const edit of list) {
          const path = edit.path as [string] | [string, string];
          const value = edit.value === undefined ? undefined : (JSON.parse(JSON.stringify(edit.value)) as unknown);
          let refusal: string | undefined;
          try {
            applyToObject(expected, path, value);
          } catch (error) {
            refusal = (error as Error).message;
          }
          if (refusal !== undefined) {
            expect(() => editJson(out, path, value)).toThrow(refusal);
            return;
          }
          out = editJson(out, path, value);
          expect(JSON.parse(out)).toEqual(expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});
