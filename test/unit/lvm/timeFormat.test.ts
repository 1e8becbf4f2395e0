// report/time_format, which lvm2 checks at start-up (so `lvmconfig --validate` fails on a bad
// one): our verdict on each format must be lvmconfig's.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diagnoseLvmText } from '../../../server/src/lvm/index';
import { lvmconfigVerdict, mapLimit } from './lvmTools';

// Valid and invalid, including lvm2's own quirks: no %n, %E and %O take only some letters, and
// the second '%' of "%%" starts a conversion again.
const FORMATS = [
  '%Y-%m-%d %T %z', '%c', '%Ey', '%Od', '%%Y', 'plain text', '% T', '%n', '%Ez', '%Oa', '100%', '%E', '%%', '100%%', '%q',
  'tab\there', '',
];

describe('lvm report/time_format vs lvmconfig --validate', function () {
  this.timeout(120_000);
  const work = mkdtempSync(join(tmpdir(), 'lvm-time-format-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it(`agrees on ${FORMATS.length} formats`, async () => {
    const results = await mapLimit(FORMATS, 2, async (f, i) => {
      // A double-quoted lvm string: escape the backslash and the quote.
      const text = `report {\n\ttime_format = "${f.replace(/[\\"]/g, '\\$&')}"\n}\n`;
      const lvm = await lvmconfigVerdict(text, 'conf', join(work, String(i)));
      const errors = diagnoseLvmText(text, '/etc/lvm/lvm.conf', { version: '2.03.16' }).filter((d) => d.severity === 'error');
      return { f, lvm, ours: errors.length ? 'invalid' : 'valid', errors };
    });
    const lines = results.map((r) => `${JSON.stringify(r.f)}: lvmconfig ${r.lvm.verdict}, ours ${r.ours}${r.errors.length ? ` (${r.errors.map((e) => e.message).join('; ')})` : ''}`);
    for (const r of results) assert.equal(r.ours, r.lvm.verdict, `${lines.join('\n')}\n\nlvmconfig on ${JSON.stringify(r.f)}:\n${r.lvm.result.stderr}`);
    // Both kinds are present, so the check means something.
    assert.ok(results.some((r) => r.lvm.verdict === 'valid') && results.some((r) => r.lvm.verdict === 'invalid'));
    console.log(`      ${lines.join('\n      ')}`);
  });
});
