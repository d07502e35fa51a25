import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM secret box for secrets at rest (OAuth token sets in the ledger `connections`
 * table). Sealed form: base64(iv ‖ ciphertext ‖ tag), a fresh random 96-bit IV per seal, so
 * sealing the same token set twice never yields the same text. The key never appears in an
 * error message.
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export const SECRET_KEY_ENV = 'HOURBRIDGE_SECRET_KEY';

export class SecretKeyError extends Error {
  override readonly name = 'SecretKeyError';
}

/** A 32-byte key. Opaque on purpose: only this module reads its bytes. */
export interface SecretKey {
  readonly bytes: Buffer;
}

/** Parse a 32-byte key written as 64 hex characters or as base64 (44 characters with padding). */
export function parseSecretKey(text: string, source = SECRET_KEY_ENV): SecretKey {
  const trimmed = text.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) bytes = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    const b = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === KEY_BYTES) bytes = b;
  }
  if (!bytes || bytes.length !== KEY_BYTES) {
    throw new SecretKeyError(
      `${source} must hold a 32-byte key as 64 hex characters or base64 (generate one with: openssl rand -base64 32)`,
    );
  }
  return { bytes };
}

/** The key from the environment (HOURBRIDGE_SECRET_KEY), or a clear error saying how to set it. */
export function loadSecretKey(env: NodeJS.ProcessEnv = process.env): SecretKey {
  const value = env[SECRET_KEY_ENV];
  if (!value) {
    throw new SecretKeyError(
      `${SECRET_KEY_ENV} is not set: Hourbridge encrypts stored tokens with it (generate one with: openssl rand -base64 32)`,
    );
  }
  return parseSecretKey(value);
}

export function seal(plaintext: string | Buffer, key: SecretKey): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
}

export function open(sealed: string, key: SecretKey): string {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretKeyError('sealed secret is truncated');
  const iv = raw.subarray(0, IV_BYTES);
  const tag = raw.subarray(raw.length - TAG_BYTES);
  const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key.bytes, iv);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretKeyError(
      `stored secret cannot be decrypted: ${SECRET_KEY_ENV} differs from the key it was sealed with, or the value was altered`,
    );
  }
}

export function sealJson(value: unknown, key: SecretKey): string {
  return seal(JSON.stringify(value), key);
}

export function openJson<T>(sealed: string, key: SecretKey): T {
  return JSON.parse(open(sealed, key)) as T;
}
