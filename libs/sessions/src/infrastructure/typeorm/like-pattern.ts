/**
 * A LIKE pattern (escape character `\`, which the statements name) matching what starts with
 * `prefix`, every character of it literal: `%` and `_` are LIKE's wildcards, `\` its escape.
 */
export function likePrefixPattern(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}
