// The TextMate grammar, run through a small TextMate-style tokenizer (earliest match wins, then
// rule order; begin/end rules span lines) on lvm.conf and metadata text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Rule {
  match?: string;
  begin?: string;
  end?: string;
  name?: string;
  include?: string;
  patterns?: Rule[];
  captures?: Record<string, { name: string }>;
}
interface Grammar { scopeName: string; patterns: Rule[]; repository: Record<string, Rule> }

const grammar = JSON.parse(readFileSync(join(__dirname, '../../../syntaxes/lvm.tmLanguage.json'), 'utf8')) as Grammar;
const langConfig = JSON.parse(readFileSync(join(__dirname, '../../../syntaxes/lvm.language-configuration.json'), 'utf8'));

function regex(src: string): RegExp {
  let flags = 'gd';
  if (src.startsWith('(?i)')) { src = src.slice(4); flags += 'i'; }
  return new RegExp(src, flags);
}

function flatten(rules: Rule[]): Rule[] {
  return rules.flatMap((r) => (r.include ? flatten([grammar.repository[r.include.slice(1)]]) : r.patterns && !r.begin ? flatten(r.patterns) : [r]));
}

/** Returns [text, scope] pairs for every token that got a scope. */
function tokenize(text: string): [string, string][] {
  const out: [string, string][] = [];
  const top = flatten(grammar.patterns);
  let open: Rule | undefined;
  for (const line of text.split('\n')) {
    let p = 0;
    while (p < line.length) {
      const candidates = open ? [{ match: open.end!, name: '__end' } as Rule, ...flatten(open.patterns ?? [])] : top;
      let best: { rule: Rule; m: RegExpExecArray } | undefined;
      for (const rule of candidates) {
        const re = regex(rule.match ?? rule.begin!);
        re.lastIndex = p;
        const m = re.exec(line);
        if (m && m[0].length > 0 && (!best || m.index < best.m.index)) best = { rule, m };
      }
      if (!best) {
        if (open) out.push([line.slice(p), open.name!]);
        break;
      }
      if (open && best.m.index > p) out.push([line.slice(p, best.m.index), open.name!]);
      const { rule, m } = best;
      if (rule.name === '__end') {
        out.push([m[0], open!.name!]);
        open = undefined;
      } else if (rule.begin) {
        out.push([m[0], rule.name!]);
        open = rule;
      } else if (rule.captures) {
        for (const [i, c] of Object.entries(rule.captures)) if (m[Number(i)]) out.push([m[Number(i)], c.name]);
        if (rule.name) out.push([m[0], rule.name]);
      } else if (rule.name) out.push([m[0], rule.name]);
      p = m.index + m[0].length;
    }
  }
  return out;
}

function scopeOf(tokens: [string, string][], text: string): string | undefined {
  return tokens.find(([t]) => t === text)?.[1];
}

describe('lvm TextMate grammar', () => {
  it('is source.lvm and every regex compiles', () => {
    assert.equal(grammar.scopeName, 'source.lvm');
    for (const rule of [...flatten(grammar.patterns), ...Object.values(grammar.repository)]) {
      for (const src of [rule.match, rule.begin, rule.end]) if (src) assert.doesNotThrow(() => regex(src), src);
    }
  });

  it('colours sections, keys, strings, numbers, comments and brackets', () => {
    const text = [
      '# LVM configuration',
      'devices {',
      '\tfilter = [ "a|^/dev/sd.*|", \'r|.*|\' ]  # accept sd*',
      '\tscan_lvs = 0',
      '\tdir = /dev',
      '\tsysfs_scan = yes',
      '}',
      'global/umask = 077',
      'report { separator = "\\" x" ratio = -1.5 }',
    ].join('\n');
    const t = tokenize(text);
    assert.equal(scopeOf(t, '# LVM configuration'), 'comment.line.number-sign.lvm');
    assert.equal(scopeOf(t, 'devices'), 'entity.name.namespace.section.lvm');
    assert.equal(scopeOf(t, 'filter'), 'keyword.other.definition.lvm');
    assert.equal(scopeOf(t, '='), 'keyword.operator.assignment.lvm');
    assert.equal(scopeOf(t, 'a|^/dev/sd.*|'), 'string.quoted.double.lvm');
    assert.equal(scopeOf(t, 'r|.*|'), 'string.quoted.single.lvm');
    assert.equal(scopeOf(t, '# accept sd*'), 'comment.line.number-sign.lvm');
    assert.equal(scopeOf(t, '0'), 'constant.numeric.lvm');
    assert.equal(scopeOf(t, '/dev'), 'string.unquoted.lvm');
    assert.equal(scopeOf(t, 'yes'), 'constant.language.boolean.lvm');
    assert.equal(scopeOf(t, 'global/umask'), 'keyword.other.definition.lvm');
    assert.equal(scopeOf(t, '077'), 'constant.numeric.lvm');
    assert.equal(scopeOf(t, '\\"'), 'constant.character.escape.lvm');
    assert.equal(scopeOf(t, '-1.5'), 'constant.numeric.lvm');
    assert.equal(scopeOf(t, '['), 'punctuation.definition.array.begin.lvm');
    assert.equal(scopeOf(t, '}'), 'punctuation.section.block.end.lvm');
  });

  it('keeps # inside strings and multi-line strings as string', () => {
    const t = tokenize('a { b = "x # not a comment\ny" }');
    assert.ok(!t.some(([, s]) => s.startsWith('comment')), JSON.stringify(t));
    assert.equal(scopeOf(t, 'y'), 'string.quoted.double.lvm');
  });

  it('has a language configuration with # comments, brackets and auto-closing quotes', () => {
    assert.equal(langConfig.comments.lineComment, '#');
    assert.deepEqual(langConfig.brackets, [['{', '}'], ['[', ']']]);
    assert.ok(langConfig.autoClosingPairs.some((p: { open: string }) => p.open === '"'));
    assert.ok(langConfig.autoClosingPairs.some((p: { open: string }) => p.open === "'"));
  });
});
