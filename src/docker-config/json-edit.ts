// Targeted edits of JSON text: set or delete one member of the root object or of an object inside it,
// touching no other byte (jsonc-parser's own modify reformats neighbouring members).
import {
  parse as parseJsonc,
  parseTree,
  printParseErrorCode,
  type Node as JsonNode,
  type ParseError,
} from 'jsonc-parser';

/** How new members are laid out: the file's indentation unit and line ending. */
interface Style {
  unit: string;
  eol: string;
}

/** Sets (or, with value undefined, deletes) the member at path (one or two keys deep) in JSON text. */
export function editJson(text: string, path: [string] | [string, string], value: unknown): string {
  const root = parseTree(text);
  if (!root || root.type !== 'object') throw new Error('editJson needs a JSON object');
  const style = detectStyle(text);
  const [first, second] = path;
  const firstProperty = findProperty(root, first);
  if (second === undefined) return setMember(text, root, firstProperty, first, value, 1, style);
  if (firstProperty) {
    const container = firstProperty.children![1]!;
    if (container.type !== 'object') throw new Error(`"${first}" is not an object`);
    return setMember(text, container, findProperty(container, second), second, value, 2, style);
  }
  if (value === undefined) return text;
  return setMember(text, root, undefined, first, { [second]: value }, 1, style);
}

function findProperty(object: JsonNode, key: string): JsonNode | undefined {
  return object.children?.find((p) => p.children?.[0]?.value === key);
}

function setMember(
  text: string,
  object: JsonNode,
  property: JsonNode | undefined,
  key: string,
  value: unknown,
  depth: number,
  style: Style,
): string {
  const multiline = /[\r\n]/.test(text.slice(object.offset, object.offset + object.length));
  if (value === undefined) return property ? deleteProperty(text, object, property) : text;
  if (property) {
    const old = property.children![1]!;
    return splice(text, old.offset, old.offset + old.length, render(value, depth, style, multiline));
  }
  const member = `${JSON.stringify(key)}: ${render(value, depth, style, multiline)}`;
  const children = object.children ?? [];
  const last = children[children.length - 1];
  const closing = object.offset + object.length - 1;
  if (last) {
    const at = last.offset + last.length;
    return splice(text, at, at, multiline ? `,${style.eol}${style.unit.repeat(depth)}${member}` : `, ${member}`);
  }
  // An empty object: replace what is between its braces.
  const inner =
    multiline || depth === 1
      ? `${style.eol}${style.unit.repeat(depth)}${member}${style.eol}${style.unit.repeat(depth - 1)}`
      : member;
  return splice(text, object.offset + 1, closing, inner);
}

function deleteProperty(text: string, object: JsonNode, property: JsonNode): string {
  const children = object.children!;
  const index = children.indexOf(property);
  const next = children[index + 1];
  const previous = children[index - 1];
  if (next) return splice(text, property.offset, next.offset, '');
  if (previous) return splice(text, previous.offset + previous.length, property.offset + property.length, '');
  // The only member: leave the braces as the file had them before the member was added.
  const open = object.offset + 1;
  const close = object.offset + object.length - 1;
  const between = text.slice(open, close);
  return splice(text, open, close, /[\r\n]/.test(between) && object.parent === undefined ? detectStyle(text).eol : '');
}

function render(value: unknown, depth: number, style: Style, multiline: boolean): string {
  if (!multiline) return compact(value);
  return JSON.stringify(value, null, style.unit)
    .split('\n')
    .join(`${style.eol}${style.unit.repeat(depth)}`);
}

// One line, spaced as people write JSON by hand: {"a": 1, "b": [2, 3]}.
function compact(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(compact).join(', ')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}: ${compact(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function detectStyle(text: string): Style {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const m = /\n([ \t]+)"/.exec(text);
  return { unit: m ? (m[1]!.startsWith('\t') ? '\t' : m[1]!) : '\t', eol };
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

/**
 * Where and why JSON text is broken, without quoting it: V8's own message quotes the text around the error, and a
 * docker config holds credentials (of registries registry-login does not know, so the redactor cannot mask them).
 */
export function describeJsonError(text: string, error: unknown): string {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const position = /at position (\d+)/.exec((error as Error)?.message ?? '');
  const offset = position ? Number(position[1]) : (errors[0]?.offset ?? 0);
  const what =
    errors[0] && (!position || errors[0].offset === offset) ? printParseErrorCode(errors[0].error) : 'syntax error';
  if (offset >= text.trimEnd().length) return 'it ends before the JSON is complete, as if cut off';
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `${what} at line ${line}, column ${offset - before.lastIndexOf('\n')}`;
}
