// Half-typed and damaged documents, as an editor sends them on every keystroke: every feature
// must answer (never throw) and quickly, at any cursor position.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { corpusFiles, rng, service } from './oracles';

describe('libvirt service on damaged documents', function () {
  this.timeout(5 * 60_000);

  it('answers every request on truncated and spliced corpus documents without throwing', async () => {
    const files = corpusFiles().filter((_, i) => i % 40 === 0);
    const svc = service();
    const r = rng(7);
    let requests = 0;
    const t0 = performance.now();
    for (const f of files) {
      const full = readFileSync(f, 'utf8');
      for (let k = 0; k < 4; k++) {
        const cut = Math.floor(r() * full.length);
        // Truncate, or drop a random slice (an edit in the middle).
        const text = k % 2 === 0 ? full.slice(0, cut) : full.slice(0, cut) + full.slice(Math.min(full.length, cut + 1 + Math.floor(r() * 40)));
        const doc = TextDocument.create(`file://${f}`, 'libvirt-xml', k, text);
        const diags = await svc.validate(doc);
        assert.ok(Array.isArray(diags));
        if (text.trim()) assert.ok(k % 2 === 1 || cut === full.length || diags.length > 0 || text.trimEnd().endsWith('>'), `${f} cut at ${cut}: no diagnostic`);
        for (let j = 0; j < 3; j++) {
          const pos = doc.positionAt(Math.floor(r() * (text.length + 1)));
          await svc.complete!(doc, pos);
          await svc.hover!(doc, pos);
          requests += 2;
        }
        svc.symbols!(doc);
        svc.folding!(doc);
        svc.codeActions!(doc, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, diags);
        requests += 4;
      }
    }
    const ms = (performance.now() - t0) / requests;
    console.log(`      ${requests} requests on ${files.length * 4} damaged documents, ${ms.toFixed(2)} ms each on average`);
    assert.ok(ms < 100, 'requests on damaged documents are too slow');
  });
});
