import { verpAddress, verpToken } from '../../domain/verp';

// 16 random bytes as base64url (22 chars) and as hex (32 chars).
const B64_TOKEN = 'n459bFtKOSgXBvXk08Kx_g';
const HEX_TOKEN = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';

describe('verpAddress', () => {
  test('builds b+TOKEN@bounce.domain with the domain lower-cased', () => {
    expect(verpAddress(B64_TOKEN, 'Bounce.Example.co.jp')).toBe(`b+${B64_TOKEN}@bounce.example.co.jp`);
    expect(verpAddress(HEX_TOKEN, 'bounce.example.co.jp', 'rt')).toBe(`rt+${HEX_TOKEN}@bounce.example.co.jp`);
  });

  test.each([
    ['too short', 'abc123'],
    ['bad characters', 'abc+def/ghi=jklmnopq'],
    ['too long', 'a'.repeat(65)],
  ])('refuses a token that is %s', (_label, token) => {
    expect(() => verpAddress(token, 'bounce.example.co.jp')).toThrow(RangeError);
  });

  test('refuses a prefix containing the separator and a malformed domain', () => {
    expect(() => verpAddress(B64_TOKEN, 'bounce.example.co.jp', 'b+x')).toThrow(RangeError);
    expect(() => verpAddress(B64_TOKEN, 'bounce example')).toThrow(RangeError);
    expect(() => verpAddress(B64_TOKEN, '')).toThrow(RangeError);
  });

  test('when the local part would pass the 64 characters SMTP allows, then it refuses', () => {
    expect(() => verpAddress('f'.repeat(64), 'bounce.example.co.jp')).toThrow(/64/);
    expect(verpAddress('f'.repeat(62), 'bounce.example.co.jp')).toHaveLength(2 + 62 + 1 + 20);
  });
});

describe('verpToken', () => {
  test('reads back the token verpAddress wrote', () => {
    const address = verpAddress(B64_TOKEN, 'bounce.example.co.jp');
    expect(verpToken(address, 'bounce.example.co.jp')).toBe(B64_TOKEN);
    expect(verpToken(address)).toBe(B64_TOKEN);
  });

  test('when the prefix and domain come back in another case or in brackets, then the token keeps its own case', () => {
    expect(verpToken(`<B+${B64_TOKEN}@BOUNCE.Example.CO.JP.>`, 'bounce.example.co.jp')).toBe(B64_TOKEN);
    expect(verpToken(`rfc822; b+${B64_TOKEN}@bounce.example.co.jp`, 'Bounce.Example.co.jp')).toBe(B64_TOKEN);
    expect(verpToken(`MAILER-DAEMON <b+${HEX_TOKEN}@bounce.example.co.jp>`)).toBe(HEX_TOKEN);
  });

  test('honours a custom prefix', () => {
    expect(verpToken(`rt+${HEX_TOKEN}@bounce.example.co.jp`, undefined, 'rt')).toBe(HEX_TOKEN);
    expect(verpToken(`b+${HEX_TOKEN}@bounce.example.co.jp`, undefined, 'rt')).toBeNull();
  });

  test.each([
    ['another domain', `b+${B64_TOKEN}@example.co.jp`],
    ['another prefix', `bounce+${B64_TOKEN}@bounce.example.co.jp`],
    ['no token', 'b@bounce.example.co.jp'],
    ['a short token', 'b+abc@bounce.example.co.jp'],
    ['a token with foreign characters', `b+${B64_TOKEN}.x@bounce.example.co.jp`],
    [
      'an SRS-rewritten address (out of scope)',
      `SRS0=HHH=TT=bounce.example.co.jp=b+${B64_TOKEN}@forwarder.example`,
    ],
    ['the null sender', '<>'],
    ['no address', 'MAILER-DAEMON'],
  ])('when the address has %s, then there is no token', (_label, address) => {
    expect(verpToken(address, 'bounce.example.co.jp')).toBeNull();
  });
});
