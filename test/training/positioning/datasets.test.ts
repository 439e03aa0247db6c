import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitRanging, samplesFromMessages, summariseWalk } from '../../../src/training/positioning/index.js';
import { readSiteFile } from '../../../src/training/site-file.js';
import { readWalkFile } from '../../../src/training/walk-file.js';
import { datasetsDir } from './datasets-dir.js';

const dir = datasetsDir();

describe.runIf(dir !== null)('the real positioning data sets load and make physical sense', () => {
  for (const name of ['feng-office', 'feng-apartment', 'feng-building', 'uji-ble-lib', 'uji-ble-geo']) {
    it(`${name}: lines are valid pingCalibration messages; ranging fits are physical`, async () => {
      const site = await readSiteFile(join(dir!, name, 'site.json'));
      const train = await readWalkFile(join(dir!, name, 'train.jsonl'));
      // The BLE sets hold a few scans in which no beacon was heard; the protocol refuses an empty
      // measurements list, so those lines are counted as bad and skipped.
      if (train.bad > 0) {
        expect(name.startsWith('uji')).toBe(true);
        expect(train.firstError!.message).toMatch(/measurements: Too small/);
        expect(train.bad / train.lines).toBeLessThan(0.1);
      }
      expect(train.messages.length).toBeGreaterThan(500);
      const samples = samplesFromMessages(train.messages, site);
      const summary = summariseWalk(samples, site);
      expect(summary.anchorsNotInSite).toEqual([]);
      const ranging = fitRanging(samples, site, { deviceHeight: 1 });
      for (const r of ranging) {
        expect(r.rssi!.exponent).toBeGreaterThanOrEqual(1);
        expect(r.rssi!.sigmaDb).toBeLessThan(12);
        if (name.startsWith('feng')) {
          // 802.11mc FTM: metre-level σ after a per-anchor correction.
          expect(r.rtt!.informative).toBe(true);
          expect(r.rtt!.sigmaM).toBeLessThan(2.5);
        } else {
          expect(r.rtt).toBeNull();
        }
      }
    });
  }
});
