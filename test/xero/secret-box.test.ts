import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { loadSecretKey, open, openJson, parseSecretKey, seal, sealJson, SecretKeyError } from '../../src/crypto/secret-box';

const hexKey = randomBytes(32).toString('hex');
const key = parseSecretKey(hexKey);

describe('AES-256-GCM secret box', () => {
  it('Given a token set, when sealed and opened with the same key, then the same JSON comes back and the sealed text does not contain it', () => {
    const tokens = { access_token: 'fake-at-123', refresh_token: 'fake-rt-456', expires_at: 1 };
    const sealed = sealJson(tokens, key);
    expect(sealed).not.toContain('fake-rt-456');
    expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain('fake-rt-456');
    expect(openJson(sealed, key)).toEqual(tokens);
  });

  it('Given the same plaintext, when sealed twice, then the texts differ (a random IV per write)', () => {
    expect(seal('same', key)).not.toEqual(seal('same', key));
  });

  it('Given a sealed value with one flipped byte, when opened, then it is refused', () => {
    const raw = Buffer.from(seal('secret value', key), 'base64');
    raw[14] = raw[14]! ^ 0x01;
    expect(() => open(raw.toString('base64'), key)).toThrow(SecretKeyError);
  });

  it('Given another key, when opening, then it is refused with a message that names the variable but not the key', () => {
    const other = parseSecretKey(randomBytes(32).toString('base64'));
    const sealed = seal('secret value', key);
    try {
      open(sealed, other);
      throw new Error('expected not to be reached');
    } catch (e) {
      expect((e as Error).message).toContain('HOURBRIDGE_SECRET_KEY');
      expect((e as Error).message).not.toContain(hexKey);
    }
  });

  it('Given keys in hex and base64, when parsed, then both give 32 bytes; a short key or a missing variable is a clear error', () => {
    const bytes = randomBytes(32);
    expect(parseSecretKey(bytes.toString('hex')).bytes.equals(bytes)).toBe(true);
    expect(parseSecretKey(bytes.toString('base64')).bytes.equals(bytes)).toBe(true);
    expect(() => parseSecretKey('abcd')).toThrow(/32-byte key/);
    expect(() => loadSecretKey({})).toThrow(/HOURBRIDGE_SECRET_KEY is not set/);
    expect(loadSecretKey({ HOURBRIDGE_SECRET_KEY: hexKey }).bytes.equals(key.bytes)).toBe(true);
  });
});
