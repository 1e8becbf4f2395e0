// Syntax tree of the LVM config text format (lvm.conf, profiles, text metadata backups).
// Every node keeps where it was written so editors can point at it; nothing here merges
// sections or resolves paths — see effective.ts for lvm2's view of the same text.

/** A point in the text: UTF-16 offset plus 0-based line and character (LSP convention). */
export interface Loc {
  offset: number;
  line: number;
  character: number;
}

export interface Span {
  start: Loc;
  end: Loc;
}

export type ItemNode = SectionNode | SettingNode;

export interface SectionNode {
  kind: 'section';
  /** Key as lvm2 reads it (quotes removed, \" and \\ unescaped); '' for the root. */
  key: string;
  keySpan: Span;
  /** Whole node, key to closing brace (or as far as the parser got). */
  span: Span;
  openBrace?: Span;
  closeBrace?: Span;
  children: ItemNode[];
  /** The key was written in quotes. */
  quotedKey: boolean;
}

export interface SettingNode {
  kind: 'setting';
  key: string;
  keySpan: Span;
  span: Span;
  eq?: Span;
  /** Missing when the text had no usable value (a syntax error was recorded). */
  value?: ValueNode;
  quotedKey: boolean;
}

export type ValueNode = ScalarNode | ArrayNode;

export type ScalarKind = 'int' | 'float' | 'string';

export interface ScalarNode {
  kind: ScalarKind;
  /** int: strtoll result (clamped to the int64 range, as a number); float: strtod; string: unescaped text. */
  value: number | string;
  /** Exactly as written, quotes included. */
  raw: string;
  /** How a string was written: '"', "'" or 'bare'. Undefined for numbers. */
  quote?: '"' | "'" | 'bare';
  span: Span;
}

export interface ArrayNode {
  kind: 'array';
  items: ScalarNode[];
  span: Span;
  closed: boolean;
}

export type Severity = 'error' | 'warning';

export interface ParseError {
  /** Stable identifier, e.g. 'syntax.unexpected-token'. */
  code: string;
  message: string;
  span: Span;
  /** 'error': lvm2 refuses the text. 'warning': lvm2 accepts it but probably not as meant. */
  severity: Severity;
}

export interface ParseResult {
  root: SectionNode;
  errors: ParseError[];
}
