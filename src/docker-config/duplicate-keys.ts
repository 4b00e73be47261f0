// Finds a key repeated at the top level of a docker config, or inside its auths or credHelpers. The text is valid
// JSON already (JSON.parse took it); strings are skipped with indexOf, so a config full of 2,000-character ECR
// tokens costs a few hundred steps rather than a full parse (jsonc-parser's tree takes ~4 ms there, cold).

const WATCHED = new Set(['auths', 'credHelpers']);

/** The first repeated key, as `"key"` or `"key" in "auths"`; undefined when none is. The text must be valid JSON. */
export function findDuplicateKey(text: string): string | undefined {
  // One frame per open object or array: its keys (objects only) and the key it is the value of.
  const stack: { keys?: Set<string>; name?: string }[] = [];
  let pendingKey: string | undefined;
  // The first repeat in each place, reported top level first (the order a reader checks them in).
  const found: Record<string, string | undefined> = {};
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      const frame = stack[stack.length - 1];
      let j = end + 1;
      while (j < text.length && isSpace(text.charCodeAt(j))) j++;
      if (frame?.keys && text.charCodeAt(j) === 0x3a /* : */) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        // Only the top level and the objects directly under auths/credHelpers matter.
        const depth = stack.length;
        if (depth === 1 || (depth === 2 && frame.name !== undefined && WATCHED.has(frame.name))) {
          const place = depth === 1 ? '' : frame.name!;
          if (frame.keys.has(key))
            found[place] ??= depth === 1 ? JSON.stringify(key) : `${JSON.stringify(key)} in ${JSON.stringify(place)}`;
          frame.keys.add(key);
        }
        pendingKey = key;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), ...(stack.length === 1 && pendingKey !== undefined ? { name: pendingKey } : {}) });
      pendingKey = undefined;
    } else if (c === 0x5b /* [ */) {
      stack.push({});
      pendingKey = undefined;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      pendingKey = undefined;
    }
  }
  return found[''] ?? found.auths ?? found.credHelpers;
}

// The index of the quote that closes the string opening at start (a quote preceded by an even run of backslashes).
function stringEnd(text: string, start: number): number {
  let at = start;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at === -1) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
