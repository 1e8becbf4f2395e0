// Verdict agreement with `xmllint --relaxng` (libxml2) over every XML test file with a libvirt
// root in Debian's libvirt source, against the installed schemas.
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { corpusFiles, docFor, schemaErrors, service, xmllintVerdicts, type Verdict } from './oracles';

describe('libvirt corpus: verdicts agree with xmllint --relaxng', function () {
  this.timeout(20 * 60_000);

  it('agrees on at least 99.5% of the corpus and lists every disagreement', async () => {
    const files = corpusFiles();
    assert.ok(files.length > 2000, `corpus too small: ${files.length} files`);
    const oracle = xmllintVerdicts(files);
    const svc = service();
    const disagreements: string[] = [];
    const counts = { valid: 0, invalid: 0, 'not-well-formed': 0 } as Record<Verdict, number>;
    for (const f of files) {
      const theirs = oracle.get(f)!;
      counts[theirs]++;
      const errors = schemaErrors(await svc.validate(docFor(f)));
      const notWellFormed = errors.some((e) => String(e.code).startsWith('xml-'));
      const ours: Verdict = notWellFormed ? 'not-well-formed' : errors.length ? 'invalid' : 'valid';
      // xmllint calls a file with a namespace error "invalid" where we call it not well-formed:
      // both reject it, which is the verdict that matters.
      const agree = ours === theirs || (ours !== 'valid' && theirs !== 'valid');
      if (!agree) disagreements.push(`${basename(f)}: xmllint ${theirs}, ours ${ours}${errors[0] ? ` (${errors[0].code}: ${errors[0].message} at ${errors[0].range.start.line + 1}:${errors[0].range.start.character + 1})` : ''}`);
    }
    const agreement = 1 - disagreements.length / files.length;
    console.log(`      corpus: ${files.length} files (xmllint: ${counts.valid} valid, ${counts.invalid} invalid, ${counts['not-well-formed']} not well-formed); agreement ${(agreement * 100).toFixed(2)}%; ${disagreements.length} disagreements`);
    for (const d of disagreements) console.log(`        ${d}`);
    assert.ok(counts.invalid > 10, 'the corpus should contain files xmllint rejects (*-invalid.xml)');
    assert.ok(agreement >= 0.995, `agreement ${(agreement * 100).toFixed(2)}% < 99.5%`);
  });
});
