/** Ill-formed UTF-16: a surrogate without its pair (in `u` mode a class matches only lone ones). */
export function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDFFF]/u.test(text);
}
