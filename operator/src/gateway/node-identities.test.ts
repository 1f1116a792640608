import { sameSerial } from './node-identities.js';

test('a serial drawn with a leading zero byte matches the one the TLS peer presents without it', () => {
  expect(sameSerial('00ababababababababababababababab', 'ABABABABABABABABABABABABABABAB')).toBe(true);
  expect(sameSerial('000fabababababababababababababab', '0FABABABABABABABABABABABABABAB')).toBe(true);
  expect(sameSerial('7fababababababababababababababab', '7FABABABABABABABABABABABABABABAB')).toBe(true);
});

test('different serials do not match, even when one is the other without a leading nibble', () => {
  expect(sameSerial('0fababababababababababababababab', 'FABABABABABABABABABABABABABABAB')).toBe(false);
  expect(sameSerial('7fababababababababababababababab', '7FABABABABABABABABABABABABABABAC')).toBe(false);
});
