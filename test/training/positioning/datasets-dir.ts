import { existsSync } from 'node:fs';
import { reportMissing } from '../../helpers/system-requirement.js';

/**
 * The real positioning data sets (../shared/datasets/positioning, or SBP_POSITIONING_DATASETS). Present in CI (a
 * test fails there when they are missing); on a user's checkout the tests that need them skip with one loud line.
 */
export function datasetsDir(): string | null {
  const dir =
    process.env.SBP_POSITIONING_DATASETS ??
    new URL('../../../../shared/datasets/positioning', import.meta.url).pathname;
  if (existsSync(dir)) return dir;
  reportMissing(
    `the positioning data sets at ${dir}`,
    'they live beside the repository in ../shared/datasets/positioning (or set SBP_POSITIONING_DATASETS)',
  );
  return null;
}
