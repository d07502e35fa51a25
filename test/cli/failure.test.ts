import { describe, expect, it } from '@jest/globals';
import { CommanderError } from 'commander';
import { ConfigError } from '../../src/config/issues';
import { ConnectorError, ConnectorRunError } from '../../src/connectors/errors';
import { describeFailure, exitCodeOf } from '../../src/cli/failure';

describe('the --json error document of a failure', () => {
  const secret = 'hb-fake-secret-value-1234';

  it('Given an error whose message carries a configured secret and a URL with a password When described Then neither reaches the message', () => {
    const f = describeFailure(new Error(`request with ${secret} to postgres://hourbridge:pw-fake-9876@db.invalid:5432/ledger failed`), {
      secrets: [secret],
    });
    expect(f.code).toBe('failed');
    expect(f.message).not.toContain(secret);
    expect(f.message).not.toContain('pw-fake-9876');
    expect(f.message).toContain('db.invalid:5432/ledger');
    expect(exitCodeOf(f)).toBe(1);
  });

  it('Given a source that failed during a run When described Then the code is its failure category and where names the source and connector', () => {
    const inner = new ConnectorError('auth', `toggl (t): 403 with token ${secret}`, { connector: 'toggl (t)' });
    const f = describeFailure(new ConnectorRunError('source', 't', 'toggl', inner), { secrets: [secret] });
    expect(f).toEqual({ code: 'connector_auth', message: 'toggl (t): 403 with token ***', where: { source: 't', connector: 'toggl' } });
    expect(exitCodeOf(f)).toBe(1);
  });

  it('Given configuration problems When described Then where is the first, issues lists all, and the exit code is 2', () => {
    const err = new ConfigError([
      {
        path: ['clients', 0, 'currency'],
        message: 'expected a 3-letter currency',
        file: `${process.cwd()}/config/a.yaml`,
        line: 7,
        column: 5,
      },
      { path: ['rates'], message: 'missing' },
    ]);
    const f = describeFailure(err, { secrets: [] });
    expect(f.code).toBe('invalid_config');
    expect(f.where).toEqual({ file: 'config/a.yaml', line: 7, column: 5, path: 'clients[0].currency' });
    expect(f.issues).toHaveLength(2);
    expect(f.issues![1]).toEqual({ path: 'rates', message: 'missing' });
    expect(exitCodeOf(f)).toBe(2);
  });

  it('Given a commander usage error When described Then the code is usage, the option is named, and the exit code is 2', () => {
    const f = describeFailure(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--bogus'"), { secrets: [] });
    expect(f).toEqual({ code: 'usage', message: "unknown option '--bogus'", where: { option: '--bogus' } });
    expect(exitCodeOf(f)).toBe(2);
  });
});
