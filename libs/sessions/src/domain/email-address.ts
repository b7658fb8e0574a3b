import { domainToASCII } from 'node:url';
import { hasLoneSurrogate } from './unicode';

/**
 * The one form an email is stored, looked up and counted under: trimmed, NFKC (so NFD, full-width
 * and other compatibility spellings are one address), lower-cased, and the domain in its IDNA
 * ASCII form (`exämple.com` is `xn--exmple-cua.com`, as DNS sees it). Never throws: an address
 * that emailProblem refuses still gets a stable form, so a lookup simply finds nothing.
 */
export function normalizeEmail(raw: string): string {
  const email = raw.normalize('NFKC').trim().toLowerCase();
  const at = email.lastIndexOf('@');
  if (at < 0) return email;
  const domain = email.slice(at + 1);
  const ascii = domain === '' ? '' : domainToASCII(domain);
  return ascii === '' ? email : `${email.slice(0, at + 1)}${ascii.toLowerCase()}`;
}

// Bidirectional controls (ALM, LRM, RLM, embeddings, overrides, isolates): they reorder what a
// reader sees, so `gpj.exe@x` can display as `exe.jpg@x`.
const BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
// Characters that render as nothing or as blank: other format characters (zero-width space and
// joiners, soft hyphen, BOM, tags), controls, separators, variation selectors, Hangul fillers.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0\u{1D173}-\u{1D17A}\u{E0100}-\u{E01EF}]/u;

/** Scripts told apart; a letter of any other script counts as `Other`. */
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Devanagari',
  'Bengali',
  'Tamil',
  'Thai',
  'Georgian',
  'Hangul',
  'Hiragana',
  'Katakana',
  'Han',
  'Bopomofo',
  'Ethiopic',
  'Cherokee',
] as const;
const SCRIPT_PATTERNS = SCRIPTS.map((script) => [script, new RegExp(`\\p{Script=${script}}`, 'u')] as const);

/**
 * Script sets a part of an address may mix, after Unicode TS #39's "highly restrictive" level:
 * Latin with the scripts Chinese, Japanese and Korean are written alongside it. Anything else
 * that mixes scripts (Latin with Cyrillic or Greek above all, the look-alikes of `a`, `o`, `p`)
 * is refused.
 */
const ALLOWED_MIXES: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

function scriptsOf(text: string): Set<string> {
  const scripts = new Set<string>();
  for (const char of text) {
    if (!/\p{L}/u.test(char)) continue;
    scripts.add(SCRIPT_PATTERNS.find(([, pattern]) => pattern.test(char))?.[0] ?? 'Other');
  }
  return scripts;
}

function mixedScripts(part: string): string[] | null {
  const scripts = scriptsOf(part);
  if (scripts.size < 2) return null;
  if (ALLOWED_MIXES.some((allowed) => [...scripts].every((script) => allowed.has(script)))) return null;
  return [...scripts];
}

/**
 * Why an address cannot be registered or signed in with, or null. Checked on the NFKC form:
 * ill-formed UTF-16 (a lone surrogate), bidirectional controls, invisible characters, and a
 * local part or domain label that mixes scripts (see ALLOWED_MIXES).
 */
export function emailProblem(raw: string): string | null {
  if (hasLoneSurrogate(raw)) return 'must be well-formed Unicode (it contains a lone surrogate)';
  const email = raw.normalize('NFKC').trim();
  if (BIDI_CONTROL.test(email)) return 'must not contain bidirectional control characters';
  if (INVISIBLE.test(email)) return 'must not contain spaces, control or invisible characters';
  const at = email.lastIndexOf('@');
  const parts = at < 0 ? [email] : [email.slice(0, at), ...email.slice(at + 1).split('.')];
  for (const part of parts) {
    const scripts = mixedScripts(part);
    if (scripts) return `must not mix scripts in one part (${scripts.join(' and ')} in "${part}")`;
  }
  if (at > 0 && at < email.length - 1 && domainToASCII(email.slice(at + 1).toLowerCase()) === '') return 'must have a valid domain name';
  return null;
}
