import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { CLI, runCli } from '../../support/cli';

describe('virt-studio CLI', () => {
  before(function () {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  });

  it('lists its subcommands in --help', () => {
    const r = runCli(['--help']);
    assert.equal(r.status, 0);
    for (const cmd of ['validate', 'image', 'boot']) assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, 'm'));
  });

  it('has --help on every subcommand', () => {
    for (const cmd of ['validate', 'image', 'boot']) {
      const r = runCli([cmd, '--help']);
      assert.equal(r.status, 0, `${cmd} --help`);
      assert.match(r.stdout, new RegExp(`Usage: virt-studio ${cmd}`));
    }
  });

  it('reports a usage error as one line on stderr with exit 2', () => {
    const r = runCli(['frobnicate']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /unknown command "frobnicate"/);
  });

  it('reports an unreadable file as an I/O error with exit 2', () => {
    const r = runCli(['validate', '/nonexistent/domain.xml']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot read \/nonexistent\/domain\.xml: no such file/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
