// `virt-studio validate --json` on libvirt documents, through the built CLI, against xmllint.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CLI, runCli } from '../../support/cli';
import type { FileReport } from '../../../client/src/cli/validate';
import { CACHE, corpusFiles, xmllintVerdicts } from './oracles';

describe('virt-studio validate on libvirt XML', function () {
  this.timeout(120_000);
  before(() => assert.ok(existsSync(CLI), `${CLI} is missing: run node scripts/build.mjs first`));

  it('gives the verdicts xmllint gives, with positioned, coded diagnostics', () => {
    const files = corpusFiles();
    const verdicts = xmllintVerdicts(files);
    // A few of every verdict and several roots, in one CLI run.
    const invalid = files.filter((f) => verdicts.get(f) === 'invalid').slice(0, 8);
    const valid = ['qemuxml2argvdata__minimal.xml', 'networkxml2confdata__nat-network.xml', 'storagepoolschemadata__pool-dir.xml', 'cputestdata__x86_64-host+guest,model486-result.xml']
      .map((n) => files.find((f) => basename(f) === n)).filter((f): f is string => !!f);
    assert.ok(valid.length >= 2, 'expected corpus files are missing');
    const r = runCli(['validate', '--json', ...invalid, ...valid]);
    assert.equal(r.status, 1, r.stderr);
    const reports = JSON.parse(r.stdout) as FileReport[];
    assert.equal(reports.length, invalid.length + valid.length);
    for (const rep of reports) {
      const theirs = verdicts.get(rep.file);
      assert.equal(rep.valid, theirs === 'valid', `${rep.file}: ours ${rep.valid ? 'valid' : 'invalid'}, xmllint ${theirs}: ${JSON.stringify(rep.diagnostics)}`);
      for (const d of rep.diagnostics) {
        assert.match(String(d.code), /^(xml|rng|libvirt)-[a-z-]+$/);
        assert.ok(d.range.start.line >= 0 && d.range.end.line >= d.range.start.line);
      }
    }
    const disk = reports.find((x) => x.file.endsWith('disk-missing-target-invalid.xml'));
    if (disk) assert.match(disk.diagnostics[0].message, /<disk> needs <target>/);
  });

  it('exits 0 on a valid domain, 1 with the error at the offending token otherwise', () => {
    const dir = join(CACHE, 'cli');
    mkdirSync(dir, { recursive: true });
    const good = join(dir, 'good.xml');
    const bad = join(dir, 'bad.xml');
    const domain = "<domain type='kvm'>\n  <name>x</name>\n  <memory unit='KiB'>1024</memory>\n  <os>\n    <type>hvm</type>\n  </os>\n</domain>\n";
    writeFileSync(good, domain);
    writeFileSync(bad, domain.replace("unit='KiB'", "unit='XB'"));
    assert.equal(runCli(['validate', good]).status, 0);
    const r = runCli(['validate', bad]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /bad\.xml:3:17: error: invalid value 'XB' for attribute 'unit' of <memory>.*\[rng-invalid-attribute-value\]/);
  });
});
