import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeAuth } from '../../src/docker/auth.js';
import { planConfigChange, type PlanInput, type WantedEntry } from '../../src/docker-config/plan.js';
import { emptyLedger, type Ledger } from '../../src/docker-config/ledger.js';
import { editJson } from '../../src/docker-config/json-edit.js';

const want = (key: string, secret = 'pw', prefix = 'ACME'): WantedEntry => ({
  key,
  prefix,
  kind: 'static',
  username: 'u',
  secret,
});
const auth = (secret = 'pw') => ({ auth: encodeAuth('u', secret) });

/** Applies a plan the way the file layer does, returning the new config object. */
function run(config: Record<string, unknown>, ledger: Ledger, input: Omit<PlanInput, 'config' | 'ledger'>) {
  const plan = planConfigChange({ config, ledger, ...input });
  const text = plan.edits.reduce((t, e) => editJson(t, e.path, e.value), JSON.stringify(config, null, '\t'));
  return { plan, config: JSON.parse(text) as Record<string, unknown>, ledger: plan.ledgerAfter };
}

describe('planConfigChange', () => {
  it('writes an auths entry and a credHelpers entry for a new login', () => {
    const { config, plan } = run({}, emptyLedger('/c'), { write: [want('ghcr.io')], keep: [], remove: 'stale' });
    expect(config).toEqual({ auths: { 'ghcr.io': auth() }, credHelpers: { 'ghcr.io': 'registry-login' } });
    expect(plan.written).toEqual(['ghcr.io']);
  });

  it('plans no edit when the config already holds the login', () => {
    const first = run({}, emptyLedger('/c'), { write: [want('ghcr.io')], keep: [], remove: 'stale' });
    const second = planConfigChange({
      config: first.config,
      ledger: first.ledger,
      write: [want('ghcr.io')],
      keep: [],
      remove: 'stale',
    });
    expect(second.edits).toEqual([]);
    expect(second.warnings).toEqual([]);
  });

  it('replaces its own entry when the secret changes', () => {
    const first = run({}, emptyLedger('/c'), { write: [want('ghcr.io', 'old')], keep: [], remove: 'stale' });
    const second = run(first.config, first.ledger, { write: [want('ghcr.io', 'new')], keep: [], remove: 'stale' });
    expect((second.config.auths as Record<string, unknown>)['ghcr.io']).toEqual(auth('new'));
    expect(second.plan.warnings).toEqual([]);
  });

  it('displaces an existing entry and puts it back when the secret goes away', () => {
    const before = {
      auths: { 'ghcr.io': { auth: 'bWluZTptaW5l', email: 'me@example.com' } },
      credHelpers: { 'ghcr.io': 'desktop' },
      credsStore: 'devpod',
    };
    const first = run(before, emptyLedger('/c'), { write: [want('ghcr.io')], keep: [], remove: 'stale' });
    expect(first.config).toEqual({
      auths: { 'ghcr.io': auth() },
      credHelpers: { 'ghcr.io': 'registry-login' },
      credsStore: 'devpod',
    });
    const gone = run(first.config, first.ledger, { write: [], keep: [], remove: 'stale' });
    expect(gone.config).toEqual(before);
    expect(gone.plan.removed).toEqual(['ghcr.io']);
    expect(gone.ledger.entries).toEqual({});
  });

  it('removes the containers it created when its last entry goes', () => {
    const first = run({ credsStore: 'x' }, emptyLedger('/c'), { write: [want('a.io')], keep: [], remove: 'stale' });
    const gone = run(first.config, first.ledger, { write: [], keep: [], remove: 'stale' });
    expect(gone.config).toEqual({ credsStore: 'x' });
  });

  it('leaves an entry the user changed alone, with a warning, on refresh and on removal', () => {
    const first = run({}, emptyLedger('/c'), { write: [want('ghcr.io')], keep: [], remove: 'stale' });
    const changed = { ...first.config, auths: { 'ghcr.io': { auth: encodeAuth('me', 'mine') } } };
    const again = run(changed, first.ledger, { write: [want('ghcr.io')], keep: [], remove: 'stale' });
    expect(again.config).toEqual(changed);
    expect(again.plan.warnings[0]?.message).toMatch(
      /ACME: the docker config entry for ghcr.io was changed outside registry-login/,
    );
    const gone = run(changed, first.ledger, { write: [], keep: [], remove: 'stale' });
    expect((gone.config.auths as Record<string, unknown>)['ghcr.io']).toEqual({ auth: encodeAuth('me', 'mine') });
    expect(gone.plan.warnings[0]?.message).toMatch(/was kept although its secrets are gone/);
  });

  it('keeps a login whose secrets exist but could not be resolved now', () => {
    const first = run({}, emptyLedger('/c'), { write: [want('ghcr.io')], keep: [], remove: 'stale' });
    const failed = planConfigChange({
      config: first.config,
      ledger: first.ledger,
      write: [],
      keep: ['ghcr.io'],
      remove: 'stale',
    });
    expect(failed.edits).toEqual([]);
    expect(failed.removed).toEqual([]);
  });

  it('rewrites a login the user deleted (docker logout) while its secrets remain', () => {
    const first = run({}, emptyLedger('/c'), { write: [want('ghcr.io')], keep: [], remove: 'stale' });
    const again = run({ credHelpers: { 'ghcr.io': 'registry-login' } }, first.ledger, {
      write: [want('ghcr.io')],
      keep: [],
      remove: 'stale',
    });
    expect((again.config.auths as Record<string, unknown>)['ghcr.io']).toEqual(auth());
  });

  it('recognises its own entry after a crash between the ledger and the config write', () => {
    const before = { auths: { 'ghcr.io': { auth: 'b2xkOm9sZA==' } } };
    const plan = planConfigChange({
      config: before,
      ledger: emptyLedger('/c'),
      write: [want('ghcr.io')],
      keep: [],
      remove: 'stale',
    });
    // The ledger was saved, the config was not: the next run sees the old entry with the new ledger.
    const retry = run(before, plan.ledgerBefore, { write: [want('ghcr.io')], keep: [], remove: 'stale' });
    expect(retry.plan.warnings).toEqual([]);
    expect(retry.config.auths).toEqual({ 'ghcr.io': auth() });
    expect(retry.ledger.entries['ghcr.io']?.displaced).toEqual({ auths: { auth: 'b2xkOm9sZA==' } });
  });

  it('saves a ledger before each write that still knows what the config holds, however many writes fail', () => {
    const first = run({}, emptyLedger('/c'), { write: [want('ghcr.io', 'pass-1')], keep: [], remove: 'stale' });
    let ledger = first.ledger;
    // Each time the ledger is saved and the config write fails: the config keeps pass-1.
    for (const secret of ['pass-2', 'pass-3', 'pass-4']) {
      const plan = planConfigChange({
        config: first.config,
        ledger,
        write: [want('ghcr.io', secret)],
        keep: [],
        remove: 'stale',
      });
      expect(plan.warnings).toEqual([]);
      expect(plan.leftAlone).toEqual([]);
      expect(plan.ledgerAfter.entries['ghcr.io']!.authHashes).toHaveLength(2);
      ledger = plan.ledgerBefore;
    }
    const works = run(first.config, ledger, { write: [want('ghcr.io', 'pass-5')], keep: [], remove: 'stale' });
    expect(works.plan.warnings).toEqual([]);
    expect((works.config.auths as Record<string, unknown>)['ghcr.io']).toEqual(auth('pass-5'));
    expect(works.ledger.entries['ghcr.io']!.authHashes).toHaveLength(2);
  });

  it('names the logins it left alone because the user changed them', () => {
    const first = run({}, emptyLedger('/c'), { write: [want('ghcr.io'), want('a.io')], keep: [], remove: 'stale' });
    const changed = {
      ...first.config,
      auths: { ...(first.config.auths as object), 'ghcr.io': { auth: encodeAuth('me', 'mine') } },
    };
    const again = planConfigChange({
      config: changed,
      ledger: first.ledger,
      write: [want('ghcr.io', 'new'), want('a.io', 'new')],
      keep: [],
      remove: 'stale',
    });
    expect(again.leftAlone.map((w) => w.key)).toEqual(['ghcr.io']);
    expect(again.written).toEqual(['a.io']);
  });

  it('takes back its own entry when the ledger was lost: nothing displaced, nothing old restored, no empty credHelpers left', () => {
    const first = run({ credsStore: 'x' }, emptyLedger('/c'), {
      write: [want('ghcr.io', 'old')],
      keep: [],
      remove: 'stale',
    });
    const again = run(first.config, emptyLedger('/c'), { write: [want('ghcr.io', 'new')], keep: [], remove: 'stale' });
    expect(again.ledger.entries['ghcr.io']?.displaced).toBeUndefined();
    const gone = run(again.config, again.ledger, { write: [], keep: [], remove: 'stale' });
    expect(gone.plan.removed).toEqual(['ghcr.io']);
    expect(gone.config).toEqual({ credsStore: 'x', auths: {} });
  });

  it('keeps a credHelpers object that held other helpers when it takes back its own entry', () => {
    const before = {
      credHelpers: { 'gcr.io': 'gcloud', 'ghcr.io': 'registry-login' },
      auths: { 'ghcr.io': auth('old') },
    };
    const again = run(before, emptyLedger('/c'), { write: [want('ghcr.io', 'new')], keep: [], remove: 'stale' });
    const gone = run(again.config, again.ledger, { write: [], keep: [], remove: 'stale' });
    expect(gone.config).toEqual({ credHelpers: { 'gcr.io': 'gcloud' }, auths: {} });
  });

  it('warns and leaves credHelpers alone when the user pointed the key at another helper', () => {
    const first = run({}, emptyLedger('/c'), { write: [want('ghcr.io')], keep: [], remove: 'stale' });
    const moved = { ...first.config, credHelpers: { 'ghcr.io': 'desktop' } };
    const again = run(moved, first.ledger, { write: [want('ghcr.io')], keep: [], remove: 'stale' });
    expect((again.config.credHelpers as Record<string, unknown>)['ghcr.io']).toBe('desktop');
    expect(again.plan.warnings[0]?.message).toMatch(/credHelpers\["ghcr.io"\] was changed to "desktop"/);
  });

  it('removes only the named keys on logout', () => {
    const first = run({}, emptyLedger('/c'), {
      write: [want('a.io'), want('b.io', 'pw', 'B')],
      keep: [],
      remove: 'stale',
    });
    const out = run(first.config, first.ledger, { write: [], keep: [], remove: ['a.io', 'not-managed.io'] });
    expect(out.plan.removed).toEqual(['a.io']);
    expect(Object.keys(out.config.auths as object)).toEqual(['b.io']);
  });

  it('records token times for ECR logins', () => {
    const issuedAt = new Date('2026-01-01T00:00:00Z');
    const expiresAt = new Date('2026-01-01T12:00:00Z');
    const { ledger } = run({}, emptyLedger('/c'), {
      write: [{ ...want('1.io'), kind: 'ecr-keys', issuedAt, expiresAt }],
      keep: [],
      remove: 'stale',
    });
    expect(ledger.entries['1.io']).toMatchObject({
      kind: 'ecr-keys',
      issuedAt: issuedAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
    });
  });
});

// Arbitrary docker configs: known and unknown top-level keys, foreign auths and helpers.
const jsonValue = fc.jsonValue({ maxDepth: 3 });
const registryKey = fc.constantFrom(
  'ghcr.io',
  'a.io',
  'b.io:5000',
  'registry.example.com',
  'https://index.docker.io/v1/',
);
const foreignConfig = fc.record(
  {
    auths: fc.dictionary(
      fc.oneof(registryKey, fc.string()),
      fc.oneof(fc.record({ auth: fc.base64String() }), fc.dictionary(fc.string(), jsonValue)),
    ),
    credHelpers: fc.dictionary(fc.oneof(registryKey, fc.string()), fc.string()),
    credsStore: fc.string(),
    psFormat: fc.string(),
    extra: jsonValue,
  },
  { requiredKeys: [] },
);
const wanted = fc.uniqueArray(fc.record({ key: registryKey, secret: fc.string({ minLength: 1 }) }), {
  selector: (w) => w.key,
  maxLength: 4,
});

describe('planConfigChange properties', () => {
  it('keeps every foreign key and entry through any sequence of refreshes and a final removal', () => {
    fc.assert(
      fc.property(foreignConfig, fc.array(wanted, { minLength: 1, maxLength: 3 }), (generated, rounds) => {
        // As read from a file: JSON has no -0.
        const original = JSON.parse(JSON.stringify(generated)) as Record<string, unknown>;
        let config = structuredClone(original);
        let ledger = emptyLedger('/c');
        for (const round of rounds) {
          const out = run(config, ledger, {
            write: round.map((w) => want(w.key, w.secret)),
            keep: [],
            remove: 'stale',
          });
          config = out.config;
          ledger = out.ledger;
          // Foreign top-level keys are untouched and keep their order.
          const foreign = (c: Record<string, unknown>) =>
            Object.entries(c).filter(([k]) => k !== 'auths' && k !== 'credHelpers');
          expect(foreign(config)).toEqual(foreign(original));
          // Foreign registries are untouched.
          for (const container of ['auths', 'credHelpers'] as const) {
            for (const [key, value] of Object.entries((original[container] ?? {}) as Record<string, unknown>)) {
              if (!round.some((w) => w.key === key))
                expect((config[container] as Record<string, unknown>)[key]).toEqual(value);
            }
          }
        }
        const last = run(config, ledger, { write: [], keep: [], remove: 'stale' });
        expect(last.config).toEqual(original);
      }),
      { numRuns: 300 },
    );
  });

  it('never changes an entry the user edited after registry-login wrote it', () => {
    fc.assert(
      fc.property(
        wanted.filter((w) => w.length > 0),
        fc.dictionary(fc.string(), jsonValue),
        fc.boolean(),
        (round, generated, stillWanted) => {
          const userEntry = JSON.parse(JSON.stringify(generated)) as unknown;
          const first = run({}, emptyLedger('/c'), {
            write: round.map((w) => want(w.key, w.secret)),
            keep: [],
            remove: 'stale',
          });
          const key = round[0]!.key;
          fc.pre(JSON.stringify(userEntry) !== JSON.stringify((first.config.auths as Record<string, unknown>)[key]));
          const edited = { ...first.config, auths: { ...(first.config.auths as object), [key]: userEntry } };
          const out = run(edited, first.ledger, {
            write: stillWanted ? round.map((w) => want(w.key, w.secret)) : [],
            keep: [],
            remove: 'stale',
          });
          expect((out.config.auths as Record<string, unknown>)[key]).toEqual(userEntry);
          expect(out.plan.warnings.some((w) => w.key === key)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
