// The tolerant XML parser: ranges for every node, and well-formedness errors on the line libxml2
// (xmllint) reports them, while still producing a usable tree.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXml, type XmlElement } from '../../../server/src/relaxng/xmlParser';
import { CACHE, requireTool } from './oracles';

const MALFORMED: [string, string, string][] = [
  ['mismatched end tag', '<domain>\n  <name>x</name>\n  <memory>1</memry>\n</domain>\n', 'xml-mismatched-end-tag'],
  ['repeated attribute', '<domain>\n  <name a="1" a="2">x</name>\n</domain>\n', 'xml-duplicate-attribute'],
  ['undefined entity', '<domain>\n  <name>x &foo; y</name>\n</domain>\n', 'xml-undefined-entity'],
  ['unquoted attribute', '<domain>\n  <name a=1>x</name>\n</domain>\n', 'xml-unquoted-attribute'],
  ['unclosed root', '<domain>\n  <name>x</name>\n', 'xml-unclosed-element'],
  ['bare <', '<domain>\n  <name>x < y</name>\n</domain>\n', 'xml-bad-tag-start'],
  ['second root', '<domain>\n</domain>\n<extra/>\n', 'xml-multiple-roots'],
  ['-- in comment', '<domain>\n  <!-- a -- b -->\n</domain>\n', 'xml-double-hyphen-in-comment'],
  ['< in attribute', '<domain>\n  <name a="x<y">x</name>\n</domain>\n', 'xml-lt-in-attribute'],
  ['undeclared prefix', '<domain>\n  <q:name>x</q:name>\n</domain>\n', 'xml-undefined-prefix'],
  ['bare &', '<domain>\n  <name>a & b</name>\n</domain>\n', 'xml-bare-ampersand'],
  ['attribute without value', '<domain>\n  <name>a</name>\n  <os a>x</os>\n</domain>\n', 'xml-attribute-without-value'],
];

/** The line xmllint blames: "file:N: parser error", or "line N" in a premature-end message. */
function xmllintLine(file: string): { line: number; output: string } {
  const r = spawnSync('xmllint', ['--noout', file], { encoding: 'utf8' });
  const out = r.stderr;
  const m = /:(\d+): (?:parser|namespace) error : (.*)/.exec(out);
  assert.ok(m, `xmllint found no error in ${file}: ${out}`);
  const premature = /Premature end of data in tag \S+ line (\d+)/.exec(m[2]);
  return { line: Number(premature ? premature[1] : m[1]), output: out };
}

describe('XML parser', () => {
  it('gives every element, attribute, value and text its source range', () => {
    const text = `<?xml version="1.0"?>\n<!-- c -->\n<domain type='kvm' xmlns:q="urn:q">\n  <name>vm &amp; co</name>\n  <q:x a = "1\n2"/>\n</domain>`;
    const doc = parseXml(text);
    assert.deepEqual(doc.errors, []);
    const root = doc.root!;
    assert.equal(text.slice(root.nameStart, root.nameEnd), 'domain');
    const type = root.attributes[0];
    assert.equal(text.slice(type.nameStart, type.nameEnd), 'type');
    assert.equal(text.slice(type.valueStart, type.valueEnd), 'kvm');
    const [name, x] = root.children.filter((c): c is XmlElement => c.kind === 'element');
    assert.equal(name.children[0].kind === 'text' && name.children[0].value, 'vm & co');
    assert.equal(text.slice(name.start, name.end), '<name>vm &amp; co</name>');
    assert.equal(x.ns, 'urn:q');
    assert.equal(x.local, 'x');
    assert.equal(x.attributes[0].value, '1 2', 'attribute newlines are normalised to spaces');
    assert.ok(x.selfClosing && x.closed);
    assert.equal(text.slice(root.endTagStart!, root.end), '</domain>');
  });

  it('recovers from a half-typed tag, keeping the elements around it', () => {
    const text = '<domain>\n  <devices>\n    <disk type=\'file\'\n    <interface type=\'network\'/>\n  </devices>\n</domain>\n';
    const doc = parseXml(text);
    assert.ok(doc.errors.some((e) => e.code === 'xml-unterminated-tag'));
    const devices = doc.root!.children.find((c): c is XmlElement => c.kind === 'element' && c.local === 'devices')!;
    assert.ok(devices.closed);
    const names: string[] = [];
    const walk = (e: XmlElement) => { names.push(e.local); e.children.forEach((c) => c.kind === 'element' && walk(c)); };
    walk(devices);
    assert.deepEqual(names, ['devices', 'disk', 'interface']);
  });

  it('reports each well-formedness error on the line xmllint blames', () => {
    requireTool('xmllint', 'libxml2-utils');
    const dir = join(CACHE, 'malformed');
    mkdirSync(dir, { recursive: true });
    MALFORMED.forEach(([label, text, code], i) => {
      const file = join(dir, `${i}.xml`);
      writeFileSync(file, text);
      const theirs = xmllintLine(file);
      const doc = parseXml(text);
      assert.ok(doc.errors.length > 0, `${label}: we found no error`);
      const first = doc.errors[0];
      assert.equal(first.code, code, `${label}: first error ${first.code}: ${first.message}`);
      const line = text.slice(0, first.start).split('\n').length;
      assert.equal(line, theirs.line, `${label}: we say line ${line}, xmllint says ${theirs.line} (${theirs.output.split('\n')[0]})`);
    });
  });

  it('never throws and stays linear on hostile input', () => {
    const samples = ['', '<', '<<<<', '</a>', '<a', "<a b='", '<a><b><c>', '<!--', '<![CDATA[', '<?xml', '&#xffffffff;', '<a>&#0;</a>', 'x'.repeat(10)];
    for (const s of samples) parseXml(s);
    const deep = '<a>'.repeat(20000) + '</a>'.repeat(20000);
    const t0 = performance.now();
    const doc = parseXml(deep);
    assert.deepEqual(doc.errors, []);
    const wide = `<r>${'<x a="1"/>'.repeat(50000)}</r>`;
    parseXml(wide);
    // A generous bound: this guards against quadratic blow-ups and hangs, not CPU speed.
    assert.ok(performance.now() - t0 < 10_000, 'parsing 500 kB of markup took over 10 s');
  });
});
