import { normalizePassword, passwordProblem } from './password-policy';

const alice = { email: 'alice.smith@example.com' };

describe('passwordProblem (NIST SP 800-63B)', () => {
  it('refuses the passwords the issue names: password, 12345678 and eight spaces', () => {
    expect(passwordProblem('password')).toMatch(/commonly used/);
    expect(passwordProblem('12345678')).toMatch(/commonly used/);
    expect(passwordProblem('        ')).toBe('must not be blank');
  });

  it('refuses common and breached passwords from the bundled list, whatever their case', () => {
    for (const common of ['iloveyou', 'Password1', 'QWERTYUIOP', 'p@ssw0rd', 'sunshine', 'football']) {
      expect([common, passwordProblem(common)]).toEqual([common, expect.stringMatching(/commonly used/)]);
    }
  });

  it('refuses repetition and simple runs', () => {
    for (const weak of ['zzzzzzzzzz', 'xyxyxyxyxy', 'lmnopqrstu', '98765432109'.slice(0, 9)]) {
      expect([weak, passwordProblem(weak)]).toEqual([weak, expect.any(String)]);
    }
  });

  it('refuses the email and what is built on it, but allows a passphrase that merely contains a name', () => {
    expect(passwordProblem('alice.smith@example.com', alice)).toBe('must not be based on your email address');
    expect(passwordProblem('alice.smith2024', alice)).toBe('must not be based on your email address');
    expect(passwordProblem('Example!!', alice)).toBe('must not be based on your email address');
    expect(passwordProblem('alice.smith walks the dog at dawn', alice)).toBeNull();
  });

  it('allows long passphrases and any Unicode, and counts characters, not UTF-16 units', () => {
    expect(passwordProblem('correct horse battery staple')).toBeNull();
    expect(passwordProblem('мой пароль никто не угадает')).toBeNull();
    expect(passwordProblem('パスワードは秘密です')).toBeNull();
    expect(passwordProblem('🐴🔋📎🦄🌵🎻🚲🧀')).toBeNull();
    // Four emoji are eight UTF-16 units, but four characters.
    expect(passwordProblem('🐴🔋📎🦄')).toMatch(/at least 8 characters/);
    expect(passwordProblem('x'.repeat(7))).toMatch(/at least 8/);
  });

  it('judges the NFKC form: a full-width spelling of a common password is that password', () => {
    expect(normalizePassword('ｐａｓｓｗｏｒｄ')).toBe('password');
    expect(passwordProblem('ｐａｓｓｗｏｒｄ')).toMatch(/commonly used/);
  });
});
