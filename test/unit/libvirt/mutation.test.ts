// Injects one error at a known node of each valid corpus document (an unknown element, a bad
// attribute value, a removed required child, a bad text value) and checks that our diagnostic
// lands on that node. xmllint decides whether a mutation really made the document invalid; only
// those count.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseXml, type XmlElement } from '../../../server/src/relaxng/xmlParser';
import { CACHE, corpusFiles, docFor, rng, schemaErrors, service, xmllintVerdicts } from './oracles';

type Kind = 'unknown element' | 'bad attribute value' | 'removed child' | 'bad text value';

interface Mutation { kind: Kind; source: string; file: string; text: string; target: { start: number; end: number } }

function elements(root: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => { out.push(e); for (const c of e.children) if (c.kind === 'element') walk(c); };
  walk(root);
  return out;
}

function pick<T>(list: T[], r: () => number): T | undefined {
  return list.length ? list[Math.floor(r() * list.length)] : undefined;
}

function mutate(source: string, text: string, r: () => number): Omit<Mutation, 'file'>[] {
  const root = parseXml(text).root!;
  const all = elements(root);
  const out: Omit<Mutation, 'file'>[] = [];
  const splice = (start: number, end: number, insert: string) => text.slice(0, start) + insert + text.slice(end);

  const container = pick(all.filter((e) => !e.selfClosing && e.closed), r);
  if (container) {
    const tag = '<virtStudioBogus/>';
    out.push({ kind: 'unknown element', source, text: splice(container.startTagEnd, container.startTagEnd, tag), target: { start: container.startTagEnd, end: container.startTagEnd + tag.length } });
  }
  const attrs = all.flatMap((e) => e.attributes.filter((a) => a.valueStart >= 0 && !a.name.startsWith('xmlns')));
  const a = pick(attrs, r);
  if (a) {
    const bogus = 'virtStudioBogus';
    out.push({ kind: 'bad attribute value', source, text: splice(a.valueStart, a.valueEnd, bogus), target: { start: a.nameStart, end: a.valueStart + bogus.length + 1 } });
  }
  const child = pick(all.filter((e) => e.parent), r);
  if (child) {
    const p = child.parent!;
    out.push({ kind: 'removed child', source, text: splice(child.start, child.end, ''), target: { start: p.start, end: p.startTagEnd } });
  }
  const leaf = pick(all.filter((e) => e.children.length === 1 && e.children[0].kind === 'text' && e.children[0].value.trim()), r);
  if (leaf) {
    const t = leaf.children[0];
    const bogus = 'virt studio bogus!';
    out.push({ kind: 'bad text value', source, text: splice(t.start, t.end, bogus), target: { start: leaf.start, end: leaf.start + (leaf.startTagEnd - leaf.start) + bogus.length } });
  }
  return out;
}

describe('libvirt mutations: diagnostics land on the injected node', function () {
  this.timeout(20 * 60_000);

  it('puts at least 95% of injected errors on the injected node', async () => {
    const files = corpusFiles();
    const verdicts = xmllintVerdicts(files);
    const valid = files.filter((f) => verdicts.get(f) === 'valid');
    const dir = join(CACHE, 'mutations');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const r = rng(20261125);
    const mutations: Mutation[] = [];
    for (const f of valid) {
      const text = readFileSync(f, 'utf8');
      mutate(basename(f), text, r).forEach((m, i) => {
        const file = join(dir, `${basename(f, '.xml')}.m${i}.xml`);
        writeFileSync(file, m.text);
        mutations.push({ ...m, file });
      });
    }
    const oracle = xmllintVerdicts(mutations.map((m) => m.file));
    const svc = service();
    const stats = new Map<Kind, { counted: number; onNode: number; misses: string[] }>();
    for (const m of mutations) {
      if (oracle.get(m.file) === 'valid') continue; // the mutation did not break the document
      let s = stats.get(m.kind);
      if (!s) stats.set(m.kind, (s = { counted: 0, onNode: 0, misses: [] }));
      s.counted++;
      const doc = docFor(m.file, m.text);
      const errors = schemaErrors(await svc.validate(doc));
      const hit = errors.some((e) => {
        const start = doc.offsetAt(e.range.start);
        return start >= m.target.start && start < m.target.end;
      });
      if (hit) s.onNode++;
      else s.misses.push(`${m.kind} in ${m.source}: expected at ${doc.positionAt(m.target.start).line + 1}:${doc.positionAt(m.target.start).character + 1}, got ${errors.length ? errors.map((e) => `${e.range.start.line + 1}:${e.range.start.character + 1} ${e.code}`).slice(0, 2).join('; ') : 'no error'}`);
    }
    let counted = 0, onNode = 0;
    for (const [kind, s] of stats) {
      counted += s.counted;
      onNode += s.onNode;
      console.log(`      ${kind}: ${s.onNode}/${s.counted} on the node (${((100 * s.onNode) / s.counted).toFixed(1)}%)`);
      for (const miss of s.misses.slice(0, 5)) console.log(`        miss: ${miss}`);
    }
    const rate = onNode / counted;
    console.log(`      overall: ${onNode}/${counted} = ${(rate * 100).toFixed(2)}% (from ${mutations.length} mutations of ${valid.length} valid documents)`);
    assert.equal(stats.size, 4, 'every kind of mutation was exercised');
    for (const [kind, s] of stats) assert.ok(s.counted >= 100, `too few ${kind} mutations were invalid per xmllint (${s.counted})`);
    assert.ok(rate >= 0.95, `only ${(rate * 100).toFixed(2)}% of injected errors were reported on the injected node`);
  });
});
