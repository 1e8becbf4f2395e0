// The parser on its own: values as lvm2 reads them, positions, and each syntax error placed on
// the token that caused it (lvm2 itself names the byte where it noticed, often one token later).
import assert from 'node:assert/strict';
import { effectiveTree, toPlain } from '../../../server/src/lvm/effective';
import { MAX_DEPTH, parse, strtoll, type ParseError, type SettingNode, type SectionNode } from '../../../server/src/lvm/parser';

function errorsOf(text: string): ParseError[] {
  return parse(text).errors.filter((e) => e.severity === 'error');
}

function spanText(text: string, e: ParseError): string {
  return text.slice(e.span.start.offset, e.span.end.offset);
}

describe('lvm parser', () => {
  it('reads values the way lvm2 does', () => {
    const text = [
      'global { umask = 077 neg = -12 plus = +5 f = 1.5 g = .5 h = -.25 }',
      'devices { dq = "a\\"b\\\\c\\n" sq = \'x\\y"z\' bare = a|.*| arr = [ "a", \'b\', c ] one = [ 1 ] empty = [] trail = [ 1, 2, ] }',
      '"quoted key" { \'k\' = "v" }',
    ].join('\n');
    const r = parse(text);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(toPlain(r.root), {
      global: { umask: 63, neg: -12, plus: 5, f: 1.5, g: 0.5, h: -0.25 },
      devices: { dq: 'a"b\\c\\n', sq: 'x\\y"z', bare: 'a|.*|', arr: ['a', 'b', 'c'], one: [1], empty: [], trail: [1, 2] },
      'quoted key': { k: 'v' },
    });
  });

  it('expands path keys, merges repeated sections, lets the last duplicate win', () => {
    const r = parse('devices/scan_lvs = 1\ndevices { filter = [ "a|.*|" ] }\nglobal { umask = 1 }\ndevices { scan_lvs = 0 }\n//a//b/ = 2\n');
    assert.deepEqual(toPlain(r.root), { devices: { scan_lvs: 0, filter: ['a|.*|'] }, global: { umask: 1 }, a: { b: { '': 2 } } });
    const eff = effectiveTree(r.root, '');
    assert.equal(eff.children[0].children[0].assignments.length, 2);
  });

  it('keeps a position on every node (0-based lines, UTF-16 characters)', () => {
    const text = '# c\r\ndevices {\r\n\tfilter = [ "é", 1 ]\r\n}\r\n';
    const r = parse(text);
    const devices = r.root.children[0] as SectionNode;
    assert.deepEqual([devices.keySpan.start.line, devices.keySpan.start.character], [1, 0]);
    assert.deepEqual([devices.closeBrace!.start.line, devices.closeBrace!.start.character], [3, 0]);
    const filter = devices.children[0] as SettingNode;
    assert.deepEqual([filter.keySpan.start.line, filter.keySpan.start.character, filter.keySpan.end.character], [2, 1, 7]);
    assert.equal(filter.value!.kind, 'array');
    const items = filter.value!.kind === 'array' ? filter.value!.items : [];
    assert.deepEqual(items.map((i) => [i.span.start.line, i.span.start.character, i.span.end.character]), [[2, 12, 15], [2, 17, 18]]);
    assert.equal(items[0].span.start.offset, text.indexOf('"é"'));
  });

  it('emulates strtoll base 0, including the 2.03.16 quirks', () => {
    assert.deepEqual(strtoll('077'), { value: 63, quirk: undefined });
    assert.equal(strtoll('08').value, 0);
    assert.ok(strtoll('08').quirk);
    assert.equal(strtoll('-').value, 0);
    assert.equal(strtoll('99999999999999999999').value, 9223372036854775807);
    const r = parse('a { b = 08 c = - }');
    assert.deepEqual(r.errors.map((e) => [e.severity, e.code]), [['warning', 'syntax.int-quirk'], ['warning', 'syntax.int-quirk']]);
  });

  // [text, code, text of the offending token, 0-based line]
  const syntaxCases: [string, string, string, number][] = [
    ['devices {\n\tscan_lvs = 1\nglobal {\n\tumask = 077\n}\n', 'syntax.unclosed-section', '{', 0],
    ['devices {\n\tscan_lvs = 1\n}}\n', 'syntax.unmatched-brace', '}', 2],
    ['devices {\n\tscan_lvs 1\n}\n', 'syntax.expected-eq', '1', 1],
    ['devices {\n\tscan_lvs\n}\n', 'syntax.expected-eq', 'scan_lvs', 1],
    ['devices {\n\tscan_lvs =\n\tsysfs_scan = 1\n}\n', 'syntax.missing-value', '=', 1],
    ['devices { scan_lvs = }\n', 'syntax.expected-value', '}', 0],
    ['devices {\n\tdir = "/dev\n}\n', 'syntax.unterminated-string', '"', 1],
    ['devices { filter = [ a|.*|, r|.*| ] }\n', 'syntax.bare-swallows', 'a|.*|,', 0],
    ['devices { filter = [a|.*|] }\n', 'syntax.bare-swallows', 'a|.*|]', 0],
    ['devices { types = [ "fd" 16 "nvme" 64 ] }\n', 'syntax.missing-comma', '16', 0],
    ['devices { t = [ 1 2 ] }\n', 'syntax.missing-comma', '2', 0],
    ['devices { pv_min_size = 64k }\n', 'syntax.invalid-number', '64k', 0],
    ['global { umask = 0x3f }\n', 'syntax.invalid-number', '0x3f', 0],
    ['a {\n  b = 1e4\n}\n', 'syntax.invalid-number', '1e4', 1],
    ['a { b = 1.2.3 }\n', 'syntax.invalid-number', '1.2.3', 0],
    ['devices { "" = 1 }\n', 'syntax.empty-key', '""', 0],
    ['devices { scan_lvs = 1 }\n"', 'syntax.expected-string', '"', 1],
    ['devices { scan_lvs = = 1 }\n', 'syntax.expected-value', '=', 0],
    ['devices { scan = [ , ] }\n', 'syntax.expected-value', ',', 0],
    ['devices { scan = [ "/dev"', 'syntax.unclosed-array', '[', 0],
    ['# nothing\n', 'syntax.no-settings', '# nothing', 0],
    ['{ scan_lvs = 1 }\n', 'syntax.missing-name', '{', 0],
    ['devices = { scan_lvs = 1 }\n', 'syntax.expected-value', '{', 0],
    ['devices { scan_lvs = 1; }\n', 'syntax.unexpected-token', ';', 0],
    ['devices { dir=a=b }\n', 'syntax.missing-name', '=', 0],
    ['devices { scan_lvs = 1 ] }\n', 'syntax.unexpected-token', ']', 0],
  ];
  for (const [text, code, token, line] of syntaxCases) {
    it(`puts ${code} on ${JSON.stringify(token)} in ${JSON.stringify(text.slice(0, 40))}`, () => {
      const errors = errorsOf(text);
      assert.ok(errors.length >= 1, 'expected a syntax error');
      const e = errors[0];
      assert.equal(e.code, code, e.message);
      assert.equal(spanText(text, e), token, e.message);
      assert.equal(e.span.start.line, line);
    });
  }

  it('accepts a last string without closing quote at the top level, as lvm2 does (with a warning)', () => {
    const r = parse('devices/dir = "/dev\n');
    assert.deepEqual(r.errors.map((e) => [e.severity, e.code, e.span.start.offset]), [['warning', 'syntax.unterminated-string', 14]]);
    assert.deepEqual(toPlain(r.root), { devices: { dir: '/dev' } });
    const inArray = errorsOf('devices/scan = [ "/dev');
    assert.deepEqual(inArray.map((e) => [e.code, e.span.start.offset]), [['syntax.unterminated-string', 17]]);
  });

  it('recovers after an error and keeps parsing the rest', () => {
    const r = parse('devices {\n\tscan_lvs 1\n\tfilter = [ "a|.*|" ]\n}\nglobal {\n\tumask = 077\n}\n');
    assert.equal(r.errors.length, 1);
    const plain = toPlain(r.root);
    assert.deepEqual(plain.global, { umask: 63 });
    assert.deepEqual((plain.devices as Record<string, unknown>).filter, ['a|.*|']);
  });

  it('stops at a NUL byte like lvm2 and survives hostile input', () => {
    const r = parse('a { b = 1 }\0garbage { {');
    assert.deepEqual(toPlain(r.root), { a: { b: 1 } });
    assert.equal(r.errors[0].code, 'syntax.nul');
    const deep = `${'x {'.repeat(MAX_DEPTH + 500)}${'}'.repeat(MAX_DEPTH + 500)}`;
    const rd = parse(deep);
    assert.ok(rd.errors.some((e) => e.code === 'syntax.too-deep'));
    assert.ok(!rd.errors.some((e) => e.code === 'syntax.unmatched-brace'));
    // Random bytes: never throws, always terminates.
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = 'ab{}[]=,"\'#\n \\0.-+/';
    for (let i = 0; i < 300; i++) {
      let s = '';
      for (let j = 0; j < 200; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const res = parse(s);
      for (const e of res.errors) assert.ok(e.span.start.offset <= e.span.end.offset && e.span.end.offset <= s.length);
    }
  });

  it('points at a string that spans lines when a syntax error follows it (a closing quote may be missing)', () => {
    // The quote after /dev is missing: the string ends at the quote on line 5, and the `'` after it
    // opens another up to line 8, where lvmconfig stops (at byte 68, the x).
    const text = 'devices {\n\tdir = "/dev\n\tscan_lvs = 1\n}\nlog {\t# " \'\n  silent = 0\n}\n\'x\' = 1\nallocation { }\n';
    const r = parse(text);
    const hint = r.errors.find((e) => e.code === 'syntax.multiline-string');
    assert.ok(hint, JSON.stringify(r.errors));
    assert.equal(hint.severity, 'warning');
    assert.deepEqual([hint.span.start.line, hint.span.start.character, spanText(text, hint)], [1, 7, '"']);
    assert.match(hint.message, /runs from line 2 to line 5.*error on line 8/);
    assert.ok(errorsOf(text).length > 0);
    // Lines inside a string are fine on their own, and so is a string after the error.
    assert.deepEqual(parse('devices { dir = "/d\nev" }\n').errors, []);
    assert.ok(!parse('devices { scan_lvs 1 }\nglobal { a = "x\ny" }\n').errors.some((e) => e.code === 'syntax.multiline-string'));
  });
});
