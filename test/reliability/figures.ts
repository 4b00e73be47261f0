// Sizes of the reliability suite (full with RL_RELIABILITY=full, reduced inside the normal test run) and the figures it
// records.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../support/agent.js';

/** True for `npm run test:reliability`; the normal test command runs the same properties at a reduced size. */
export const FULL = process.env.RL_RELIABILITY === 'full';

/** The number of trials of a property: full or reduced. */
export function size(full: number, reduced: number): number {
  return FULL ? full : reduced;
}

/** Where each property leaves its figures for scripts/reliability-report.mjs. */
export const FIGURES_DIR = path.join(REPO, 'build', 'reliability');

/** What one property measured. */
export interface Figure {
  /** File name and sort key, e.g. "1-crash". */
  id: string;
  property: string;
  trials: number;
  failures: number;
  /** The first few failures, described (never a secret). */
  examples: string[];
  /** Further measurements, e.g. timings, as label → value. */
  facts: Record<string, string | number>;
}

/** Writes a property's figures (build/reliability/<id>.json). */
export function recordFigure(figure: Figure): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  writeFileSync(
    path.join(FIGURES_DIR, `${figure.id}.json`),
    `${JSON.stringify({ ...figure, size: FULL ? 'full' : 'reduced', recordedAt: new Date().toISOString() }, null, 2)}\n`,
  );
}

/** Collects failures of many trials so that a run reports how many failed, not only the first. */
export class Failures {
  readonly list: string[] = [];

  /** Records a failure when ok is false. */
  check(ok: boolean, what: () => string): void {
    if (!ok) this.list.push(what());
  }

  get count(): number {
    return this.list.length;
  }

  examples(n = 5): string[] {
    return this.list.slice(0, n);
  }
}

/** Percentile of a list of numbers (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
