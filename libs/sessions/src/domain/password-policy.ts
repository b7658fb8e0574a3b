import { hasLoneSurrogate } from './unicode';

/**
 * The password policy, after NIST SP 800-63B (5.1.1.2): length, not composition rules. A password
 * is taken as its NFKC form (so every spelling of one passphrase is the same password), any
 * Unicode is allowed, spaces included, and what is refused is what an attacker tries first:
 * - fewer than PASSWORD_MIN_CODE_POINTS characters, or blank;
 * - a password on the bundled list of common and breached passwords (zxcvbn-ts's
 *   `passwords-common`, 49,233 entries), compared case-insensitively;
 * - one character repeated, or a run like `12345678` / `abcdefgh` / `87654321`;
 * - context words: the account's email, its local part and its domain's name; a passphrase that
 *   merely contains one is fine as long as what is left would pass on its own.
 * Used by RegisterUser and ChangePassword; exported, so that a password from configuration
 * (ADMIN_PASSWORD) can be held to it too.
 */
export const PASSWORD_MIN_CODE_POINTS = 8;

/** What the policy knows about the account, to refuse passwords made of it. */
export interface PasswordContext {
  readonly email?: string | null;
}

/** The form a password is hashed and verified in. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

let commonPasswords: ReadonlySet<string> | undefined;

function isCommon(password: string): boolean {
  // Loaded on first use (about 0.5 MB), not at import.
  commonPasswords ??= new Set<string>(
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('@zxcvbn-ts/language-common') as { dictionary: Record<string, string[]> }).dictionary['passwords-common'],
  );
  return commonPasswords.has(password.toLowerCase());
}

function isRepetitiveOrSequential(password: string): boolean {
  const chars = [...password.toLowerCase()];
  if (new Set(chars).size <= 2) return true;
  const steps = chars.slice(1).map((c, i) => (c.codePointAt(0) ?? 0) - (chars[i].codePointAt(0) ?? 0));
  return steps.every((step) => step === steps[0] && Math.abs(step) <= 1);
}

function contextWords(context: PasswordContext): string[] {
  const email = context.email?.normalize('NFKC').trim().toLowerCase();
  if (!email) return [];
  const at = email.lastIndexOf('@');
  const local = at < 0 ? email : email.slice(0, at);
  const domainName = at < 0 ? '' : (email.slice(at + 1).split('.')[0] ?? '');
  // Longest first, so removing the email removes it whole before its parts.
  return [email, local, domainName].filter((word) => [...word].length >= 3).sort((a, b) => b.length - a.length);
}

/** Why the policy refuses a password alone, or null. */
function intrinsicProblem(password: string): string | null {
  if ([...password].length < PASSWORD_MIN_CODE_POINTS) return `must be at least ${PASSWORD_MIN_CODE_POINTS} characters long`;
  if (password.trim() === '') return 'must not be blank';
  if (isCommon(password) || isCommon(password.trim())) return 'is a commonly used password (it appears in lists of breached passwords)';
  if (isRepetitiveOrSequential(password)) return 'must not be a repeated character or a simple sequence';
  return null;
}

/** Why the policy refuses this password for this account (a sentence fragment: "password ..."), or null. */
export function passwordProblem(password: string, context: PasswordContext = {}): string | null {
  if (hasLoneSurrogate(password)) return 'must be well-formed Unicode (it contains a lone surrogate)';
  const normalized = normalizePassword(password);
  const problem = intrinsicProblem(normalized);
  if (problem) return problem;
  let rest = normalized.toLowerCase();
  for (const word of contextWords(context)) rest = rest.split(word).join('');
  if (rest !== normalized.toLowerCase() && intrinsicProblem(rest) !== null) return 'must not be based on your email address';
  return null;
}
