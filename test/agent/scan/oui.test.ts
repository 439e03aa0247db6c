import { describe, expect, it } from 'vitest';
import { isRandomisedMac, normaliseMac, OUI_TABLE_SIZE, vendorOf } from '../../../src/agent/scan/oui.js';

describe('vendor from OUI', () => {
  it('knows common vendors, in any case and separator', () => {
    expect(vendorOf('B8-27-EB-12-34-56')).toBe('Raspberry Pi');
    expect(vendorOf('00:17:88:01:02:03')).toBe('Signify (Philips Hue)');
    expect(vendorOf('24:0a:c4:00:00:01')).toBe('Espressif');
    expect(OUI_TABLE_SIZE).toBeGreaterThan(100);
  });
  it('has no vendor for unknown prefixes and for locally administered (randomised) addresses', () => {
    expect(vendorOf('12:34:56:78:9a:bc')).toBeUndefined();
    expect(isRandomisedMac('da:a1:19:00:00:01')).toBe(true);
    expect(isRandomisedMac('b8:27:eb:00:00:01')).toBe(false);
    expect(vendorOf('not a mac')).toBeUndefined();
    expect(normaliseMac('AA-BB-CC-DD-EE-FF')).toBe('aa:bb:cc:dd:ee:ff');
  });
});
