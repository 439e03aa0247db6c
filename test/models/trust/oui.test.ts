import { describe, expect, it } from 'vitest';
import {
  claimMatches,
  isLocallyAdministered,
  OUI_TABLE_SIZE,
  OUI_VENDORS,
  ouiOf,
  vendorByClaim,
  vendorOfMac,
} from '../../../src/models/trust/oui.js';

describe('the OUI table', () => {
  it('names common vendors, in any case and separator', () => {
    expect(vendorOfMac('B8-27-EB-12-34-56')?.name).toBe('Raspberry Pi');
    expect(vendorOfMac('00:17:88:01:02:03')?.key).toBe('signify');
    expect(vendorOfMac('24:0a:c4:00:00:01')?.key).toBe('espressif');
    expect(vendorOfMac('08:00:27:aa:bb:cc')?.types).toContain('virtual_machine');
    expect(ouiOf('aa-bb-cc-dd-ee-ff')).toBe('AA:BB:CC');
    expect(OUI_TABLE_SIZE).toBeGreaterThan(100);
  });

  it('has no vendor for unknown prefixes, non-MACs and locally administered (randomised) addresses', () => {
    expect(vendorOfMac('12:34:56:78:9a:bc')).toBeNull();
    expect(vendorOfMac('not a mac')).toBeNull();
    expect(ouiOf('b8:27:eb:00:00')).toBeNull();
    expect(isLocallyAdministered('da:a1:19:00:00:01')).toBe(true);
    expect(isLocallyAdministered('b8:27:eb:00:00:01')).toBe(false);
    // B8:27:EB with the locally administered bit set is BA:27:EB: not the Raspberry Pi Foundation's.
    expect(vendorOfMac('ba:27:eb:00:00:01')).toBeNull();
  });

  it('is consistent: each prefix once, universally administered, canonical; each vendor recognises its own name', () => {
    const prefixes = OUI_VENDORS.flatMap((v) => v.prefixes);
    expect(new Set(prefixes).size).toBe(prefixes.length);
    expect(OUI_TABLE_SIZE).toBe(prefixes.length);
    for (const p of prefixes) {
      expect(p).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){2}$/);
      expect(Number.parseInt(p.slice(0, 2), 16) & 0x03).toBe(0);
    }
    expect(new Set(OUI_VENDORS.map((v) => v.key)).size).toBe(OUI_VENDORS.length);
    for (const v of OUI_VENDORS) {
      expect(v.types.length).toBeGreaterThan(0);
      expect(claimMatches(v, v.name), v.name).toBe(true);
    }
    expect(vendorByClaim('Apple, Inc.')?.key).toBe('apple');
    expect(vendorByClaim('AVM GmbH (FRITZ!Box 7590)')?.key).toBe('avm');
    expect(vendorByClaim('Acme Widgets')).toBeNull();
  });
});
