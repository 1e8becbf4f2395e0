// The RelaxNG engine on a small schema using the constructs libvirt's schemas do not (or rarely)
// use: include with overrides, combine, externalRef, nested grammar + parentRef, list, mixed,
// anyName/nsName/except, data with except, facets, XSD regex escapes. Verdicts vs xmllint.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSchema } from '../../../server/src/relaxng/schema';
import { translateXsdRegex } from '../../../server/src/relaxng/xsdRegex';
import { parseXml } from '../../../server/src/relaxng/xmlParser';
import { CACHE, requireTool } from './oracles';

const RNG = 'http://relaxng.org/ns/structure/1.0';
const XSD = 'http://www.w3.org/2001/XMLSchema-datatypes';

const FILES: Record<string, string> = {
  'main.rng': `<grammar xmlns="${RNG}" datatypeLibrary="${XSD}" ns="urn:t">
  <include href="common.rng">
    <define name="color"><choice><value>red</value><value>green</value></choice></define>
  </include>
  <start><ref name="root"/></start>
  <define name="root">
    <element name="root">
      <optional><attribute name="id"><data type="NCName"/></attribute></optional>
      <ref name="extra"/>
      <interleave>
        <zeroOrMore><ref name="item"/></zeroOrMore>
        <optional><element name="words"><list><oneOrMore><data type="int"/></oneOrMore></list></element></optional>
        <optional><element name="para"><mixed><zeroOrMore><element name="b"><text/></element></zeroOrMore></mixed></element></optional>
        <optional><element name="any"><ref name="anything"/></element></optional>
        <optional><externalRef href="ext.rng"/></optional>
        <optional><element name="nested"><grammar><start><element name="inner"><parentRef name="colorElement"/></element></start></grammar></element></optional>
        <optional><element name="notkw"><data type="token"><except><choice><value>if</value><value>else</value></choice></except></data></element></optional>
        <optional><element name="size"><data type="unsignedLong"><param name="minInclusive">1</param><param name="maxInclusive">18446744073709551615</param></data></element></optional>
        <optional><element name="ratio"><data type="double"/></element></optional>
        <optional><element name="when"><data type="dateTime"/></element></optional>
      </interleave>
    </element>
  </define>
  <define name="colorElement"><element name="color"><ref name="color"/></element></define>
  <define name="item" combine="choice">
    <element name="item"><attribute name="n"><data type="unsignedByte"><param name="maxInclusive">100</param></data></attribute><ref name="color"/></element>
  </define>
  <define name="item" combine="choice">
    <element name="code"><data type="string"><param name="pattern">[A-Z]{2}-\\d{3}(\\.[^\\s.]+)?</param><param name="maxLength">10</param></data></element>
  </define>
  <define name="anything">
    <zeroOrMore><choice>
      <element><anyName><except><nsName ns="urn:forbidden"/></except></anyName><ref name="anything"/></element>
      <attribute><anyName/></attribute>
      <text/>
    </choice></zeroOrMore>
  </define>
</grammar>`,
  'common.rng': `<grammar xmlns="${RNG}" datatypeLibrary="${XSD}">
  <define name="color"><value>blue</value></define>
  <define name="extra"><optional><attribute name="mode"><choice><value type="string">a b</value><value type="int">7</value></choice></attribute></optional></define>
</grammar>`,
  'ext.rng': `<element name="ext" ns="urn:t" xmlns="${RNG}"><attribute name="x"><data type="decimal" datatypeLibrary="${XSD}"><param name="minExclusive">0</param></data></attribute><data type="token"/></element>`,
};

const DOCS: [string, string][] = [
  ['minimal', '<root xmlns="urn:t"/>'],
  ['items and codes in any order', '<root xmlns="urn:t" id="r1"><code>AB-123</code><item n="5">red</item><item n="100"> green </item></root>'],
  ['overridden define (blue is gone)', '<root xmlns="urn:t"><item n="5">blue</item></root>'],
  ['maxInclusive', '<root xmlns="urn:t"><item n="101">red</item></root>'],
  ['unsignedByte range', '<root xmlns="urn:t"><item n="-1">red</item></root>'],
  ['pattern with \\d and class', '<root xmlns="urn:t"><code>AB-12</code></root>'],
  ['pattern optional group', '<root xmlns="urn:t"><code>AB-123.x</code></root>'],
  ['pattern excludes dot', '<root xmlns="urn:t"><code>AB-123.x.y</code></root>'],
  ['maxLength', '<root xmlns="urn:t"><code>AB-123.xyzw</code></root>'],
  ['list of ints', '<root xmlns="urn:t"><words> 1 2\n 3 </words></root>'],
  ['list with a non-int', '<root xmlns="urn:t"><words>1 two</words></root>'],
  ['empty list', '<root xmlns="urn:t"><words> </words></root>'],
  ['mixed content', '<root xmlns="urn:t"><para>some <b>bold</b> text<b/></para></root>'],
  ['mixed with a wrong child', '<root xmlns="urn:t"><para>some <i>x</i></para></root>'],
  ['anyName', '<root xmlns="urn:t"><any a="1"><x:y xmlns:x="urn:x" q="2"><z/>text</x:y></any></root>'],
  ['anyName except nsName', '<root xmlns="urn:t"><any><f:no xmlns:f="urn:forbidden"/></any></root>'],
  ['externalRef', '<root xmlns="urn:t"><ext x="0.5">  a   token </ext></root>'],
  ['externalRef minExclusive', '<root xmlns="urn:t"><ext x="0">a</ext></root>'],
  ['nested grammar + parentRef', '<root xmlns="urn:t"><nested><inner><color>green</color></inner></nested></root>'],
  ['parentRef value', '<root xmlns="urn:t"><nested><inner><color>blue</color></inner></nested></root>'],
  ['data except', '<root xmlns="urn:t"><notkw>maybe</notkw></root>'],
  ['data except hit', '<root xmlns="urn:t"><notkw> if </notkw></root>'],
  ['value type string is exact', '<root xmlns="urn:t" mode="a b"/>'],
  ['value type string whitespace', '<root xmlns="urn:t" mode="a  b"/>'],
  ['value type int compares numbers', '<root xmlns="urn:t" mode="007"/>'],
  ['unsignedLong max', '<root xmlns="urn:t"><size>18446744073709551615</size></root>'],
  ['unsignedLong overflow', '<root xmlns="urn:t"><size>18446744073709551616</size></root>'],
  ['unsignedLong minInclusive', '<root xmlns="urn:t"><size>0</size></root>'],
  ['double', '<root xmlns="urn:t"><ratio>-1.5E3</ratio></root>'],
  ['double INF', '<root xmlns="urn:t"><ratio>INF</ratio></root>'],
  ['bad double', '<root xmlns="urn:t"><ratio>1.5.2</ratio></root>'],
  ['dateTime', '<root xmlns="urn:t"><when>2026-11-25T04:00:00Z</when></root>'],
  ['bad dateTime', '<root xmlns="urn:t"><when>2026-13-25T04:00:00</when></root>'],
  ['NCName attribute', '<root xmlns="urn:t" id="a:b"/>'],
  ['wrong namespace', '<root/>'],
  ['duplicate in interleave', '<root xmlns="urn:t"><words>1</words><words>2</words></root>'],
  ['text not allowed', '<root xmlns="urn:t">stray</root>'],
];

describe('RelaxNG engine vs xmllint on a feature-complete schema', () => {
  it('gives xmllint\'s verdict on every document', () => {
    requireTool('xmllint', 'libxml2-utils');
    const dir = join(CACHE, 'rng-engine');
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
    const schema = compileSchema(join(dir, 'main.rng'));
    const mismatches: string[] = [];
    let invalid = 0;
    DOCS.forEach(([label, text], i) => {
      const file = join(dir, `doc${i}.xml`);
      writeFileSync(file, text);
      const r = spawnSync('xmllint', ['--noout', '--relaxng', join(dir, 'main.rng'), file], { encoding: 'utf8' });
      assert.ok(r.status === 0 || r.status === 3, `xmllint failed on ${label}: ${r.stderr}`);
      const theirs = r.status === 0;
      const doc = parseXml(text);
      assert.deepEqual(doc.errors, [], `${label} is not well-formed`);
      const issues = schema.validate(doc.root!);
      if (!theirs) invalid++;
      if (theirs !== (issues.length === 0)) mismatches.push(`${label}: xmllint ${theirs ? 'valid' : 'invalid'}, ours ${issues.map((x) => x.message).join('; ') || 'valid'}`);
    });
    assert.ok(invalid >= 10 && invalid < DOCS.length - 10, 'the documents should mix valid and invalid');
    assert.deepEqual(mismatches, []);
  });

  it('translates XSD regexes: implicit anchors, literal ^ and $, \\d \\i \\c, class subtraction', () => {
    const re = (p: string) => new RegExp(translateXsdRegex(p), 'u');
    assert.ok(re('[a-z]+').test('abc') && !re('[a-z]+').test('abc1'));
    assert.ok(re('$[ ]*x').test('$ x'), "'$' is an ordinary character");
    assert.ok(re('\\^[0-9]').test('^5'));
    assert.ok(re('\\d+').test('٣4'), '\\d is any Unicode decimal digit');
    assert.ok(re('\\i\\c*').test('_a-1.b') && !re('\\i\\c*').test('1a'));
    assert.ok(re('[a-z-[aeiou]]+').test('bcd') && !re('[a-z-[aeiou]]+').test('bad'));
    assert.ok(re('.').test('x') && !re('.').test('\n'));
    assert.ok(re('[!#$%&\'*+\\-.0-9A-Z\\^_`a-z|~]+').test('a-b^c|~'));
    assert.ok(re('[\\s\\d]+').test(' 1\t2'));
    assert.ok(!re('[^\\s]+').test('a b'));
  });
});
