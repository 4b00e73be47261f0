// package.json is the one source of the version. This keeps the other places that state it in step.
//
//   node scripts/feature-version.mjs sync    write package.json's version into devcontainer-feature.json and
//                                            open its CHANGELOG.md section from the Unreleased entries
//                                            (npm's `version` lifecycle hook; the hook then `git add`s both)
//   node scripts/feature-version.mjs check   fail when devcontainer-feature.json or CHANGELOG.md disagree
//                                            (part of `npm run lint`)
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyEdits, modify, parse } from 'jsonc-parser';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const featureFile = path.join(root, 'devcontainer-feature.json');

// Plain MAJOR.MINOR.PATCH: `devcontainer features publish` derives the MAJOR and MAJOR.MINOR tags from it,
// and the official Features publish no pre-releases.
const RELEASE_VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

const fail = (message) => {
  console.error(`feature-version: ${message}`);
  process.exit(1);
};

const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
if (typeof version !== 'string' || !RELEASE_VERSION.test(version)) {
  fail(
    `package.json version ${JSON.stringify(version)} is not MAJOR.MINOR.PATCH; set it with \`npm version <major|minor|patch>\``,
  );
}
const featureText = await readFile(featureFile, 'utf8');
const featureVersion = parse(featureText)?.version;
const changelogFile = path.join(root, 'CHANGELOG.md');
const changelog = await readFile(changelogFile, 'utf8').catch(() => '');
const versionHeading = new RegExp(`^## \\[${version.replaceAll('.', '\\.')}\\]`, 'm');

const mode = process.argv[2];
if (mode === 'sync') {
  if (featureVersion !== version) {
    // A targeted edit: every other byte of the file stays as it was.
    const edits = modify(featureText, ['version'], version, { formattingOptions: { insertSpaces: true, tabSize: 2 } });
    await writeFile(featureFile, applyEdits(featureText, edits));
    console.log(`feature-version: devcontainer-feature.json version ${featureVersion} -> ${version}`);
  }
  if (!versionHeading.test(changelog)) {
    // Keep a Changelog: what was under Unreleased becomes this release's section; Unreleased starts empty.
    if (!/^## \[Unreleased\]$/m.test(changelog)) fail('CHANGELOG.md has no "## [Unreleased]" section to release');
    const today = new Date().toISOString().slice(0, 10);
    await writeFile(
      changelogFile,
      changelog.replace(/^## \[Unreleased\]$/m, `## [Unreleased]\n\n## [${version}] - ${today}`),
    );
    console.log(`feature-version: CHANGELOG.md Unreleased entries are now under ${version}`);
  }
} else if (mode === 'check') {
  if (featureVersion !== version) {
    fail(
      `devcontainer-feature.json version ${JSON.stringify(featureVersion)} differs from package.json version ${version}; ` +
        'run `node scripts/feature-version.mjs sync` (npm version does this by itself)',
    );
  }
  if (!versionHeading.test(changelog)) {
    fail(
      `CHANGELOG.md has no "## [${version}]" section; run \`node scripts/feature-version.mjs sync\` to open it from Unreleased`,
    );
  }
} else {
  fail(`usage: node scripts/feature-version.mjs sync|check (got ${JSON.stringify(mode)})`);
}
