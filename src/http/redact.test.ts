import { describe, expect, it } from '@jest/globals';
import { redactHeaders, redactUrl, scrubSecrets } from './redact';

describe('redaction', () => {
  it('Given a URL with a token parameter and user info, when redacted, then the secret values are masked', () => {
    const out = redactUrl('https://user:pw@api.example.test/v1/x?api_key=abc123&page=2');
    expect(out).not.toContain('abc123');
    expect(out).not.toContain('pw@');
    expect(out).toContain('page=2');
  });
  it('Given auth headers, when redacted, then their values are masked', () => {
    expect(redactHeaders({ Authorization: 'Bearer s3cr3t', 'X-Api-Key': 'k', 'Harvest-Account-Id': '1' })).toEqual({
      Authorization: '***',
      'X-Api-Key': '***',
      'Harvest-Account-Id': '1',
    });
  });
  it('Given a message containing a known secret or a bearer token, when scrubbed, then neither remains', () => {
    const out = scrubSecrets('failed with token FAKE-TOKEN-1234 and Bearer abc.def', ['FAKE-TOKEN-1234']);
    expect(out).toBe('failed with token *** and Bearer ***');
  });
});
