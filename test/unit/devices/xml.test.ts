import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { attr, child, parseXml, XmlError } from '../../../emulator/src/machine/xml';

function errorAt(text: string): [number, number, string] {
  try {
    parseXml(text);
  } catch (e) {
    assert.ok(e instanceof XmlError);
    return [e.pos.line, e.pos.column, e.message];
  }
  assert.fail('no error');
}

describe('machine: domain XML reader', () => {
  it('reads entities, character references, CDATA, comments and positions', () => {
    const doc = parseXml("<?xml version='1.0'?>\n<!-- c -->\n<domain a=\"x &amp; &#x41;&#66;\">\n  <cmdline><![CDATA[a<b]]> &lt;c&gt;</cmdline>\n</domain>\n");
    assert.equal(attr(doc, 'a'), 'x & AB');
    const c = child(doc, 'cmdline')!;
    assert.equal(c.text, 'a<b <c>');
    assert.deepEqual([c.pos.line, c.pos.column], [4, 3]);
  });

  it('rejects what xmllint rejects, with a position', () => {
    const cases: [string, RegExp][] = [
      ['<a><b></a>', /<\/a> does not match <b>/],
      ["<a x='1' x='2'/>", /duplicate attribute/],
      ['<a x=1/>', /must be quoted/],
      ['<a>&bogus;</a>', /unknown entity/],
      ['<a/><b/>', /content after the root/],
      ['<a>', /not closed/],
      ["<a x='<'/>", /"<" in the value/],
    ];
    for (const [text, re] of cases) {
      assert.match(errorAt(text)[2], re, text);
      // The reference parser agrees these documents are not well-formed.
      assert.throws(() => execFileSync('xmllint', ['--noout', '-'], { input: text, stdio: ['pipe', 'ignore', 'ignore'] }), text);
    }
    assert.deepEqual(errorAt('<domain>\n  <name>x</nam>\n</domain>').slice(0, 2), [2, 10]);
  });

  it('bounds nesting depth instead of overflowing the stack', () => {
    const deep = '<a>'.repeat(10_000) + '</a>'.repeat(10_000);
    assert.match(errorAt(deep)[2], /nested deeper than 256/);
  });
});
