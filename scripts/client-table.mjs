// The README's table of other clients is rendered from the results test/e2e/other-clients.test.ts writes, never typed:
//   node scripts/client-table.mjs write   copy build/client-results.json to test/e2e/client-results.json, render README
//   node scripts/client-table.mjs check   exit 1 when README's table is not what the committed results render
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';

const BEGIN = '<!-- client-table: begin (scripts/client-table.mjs renders it from test/e2e/client-results.json) -->';
const END = '<!-- client-table: end -->';
const COMMITTED = 'test/e2e/client-results.json';
const CLIENTS = ['podman', 'buildah', 'skopeo', 'docker-py', 'testcontainers'];

function render({ versions, results }) {
  const locations = [...new Set(results.map((r) => r.location))];
  const cell = (location, client) => {
    const row = results.find((r) => r.location === location && r.client === client);
    if (!row) return 'not run';
    // A client that uses our login has nothing for status to name; one that status names anyway would show here.
    if (!row.staleFails) return row.named ? 'uses our login, yet `status` names it' : 'uses our login';
    const what = 'does not use our login';
    const named = row.named ? ', `status` names it' : ', `status` does NOT name it';
    const clean = location === 'helper missing from PATH' ? '' : row.cleanPulls ? '; pulls once removed' : '';
    return `${what}${named}${clean}`;
  };
  return [
    `Measured with ${CLIENTS.map((c) => versions[c])
      .filter(Boolean)
      .join(', ')}:`,
    '',
    `| a login for a managed registry in | ${CLIENTS.join(' | ')} |`,
    `|---|${CLIENTS.map(() => '---').join('|')}|`,
    ...locations.map((l) => `| ${l} | ${CLIENTS.map((c) => cell(l, c)).join(' | ')} |`),
  ].join('\n');
}

function withTable(readme, table) {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start === -1 || end < start) throw new Error(`README.md has no ${BEGIN} … ${END} markers`);
  return `${readme.slice(0, start + BEGIN.length)}\n${table}\n${readme.slice(end)}`;
}

const mode = process.argv[2];
if (mode === 'write') copyFileSync('build/client-results.json', COMMITTED);
else if (mode !== 'check') {
  console.error('usage: node scripts/client-table.mjs write|check');
  process.exit(2);
}
const readme = readFileSync('README.md', 'utf8');
const wanted = withTable(readme, render(JSON.parse(readFileSync(COMMITTED, 'utf8'))));
if (mode === 'write') writeFileSync('README.md', wanted);
else if (wanted !== readme) {
  console.error(
    `README.md's client table is not what ${COMMITTED} renders: run \`node scripts/client-table.mjs write\``,
  );
  process.exit(1);
}
