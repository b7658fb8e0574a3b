import { emailProblem, normalizeEmail } from './email-address';

describe('normalizeEmail', () => {
  it('gives NFD, NFC, full-width and upper-case spellings of one address the same form', () => {
    const nfc = 'jos\u00e9@example.com';
    const nfd = 'jose\u0301@example.com';
    expect(normalizeEmail(nfd)).toBe(normalizeEmail(nfc));
    expect(normalizeEmail(' ＡＤＡ@ＥＸＡＭＰＬＥ.com ')).toBe('ada@example.com');
    expect(normalizeEmail('Ada@Example.COM')).toBe('ada@example.com');
  });

  it('stores the domain in its IDNA ASCII form, so both spellings of an IDN are one address', () => {
    expect(normalizeEmail('ada@Bücher.de')).toBe('ada@xn--bcher-kva.de');
    expect(normalizeEmail('ada@xn--bcher-kva.de')).toBe('ada@xn--bcher-kva.de');
  });

  it('never throws, whatever it is given', () => {
    for (const raw of ['', '@', 'no-at-sign', 'a@', '@b', 'a@b@c', 'a@[::1]', 'x@\ud800.com', 'x@a..b']) {
      expect(typeof normalizeEmail(raw)).toBe('string');
    }
  });
});

describe('emailProblem', () => {
  it('accepts ordinary and international addresses', () => {
    for (const ok of [
      'ada@example.com',
      'josé@example.com',
      'jose\u0301@example.com',
      'ada@bücher.de',
      'пётр@пример.рф',
      'δοκιμή@παράδειγμα.δοκιμή',
      '山田taro@例え.jp',
    ]) {
      expect([ok, emailProblem(ok)]).toEqual([ok, null]);
    }
  });

  it('refuses zero-width and other invisible characters', () => {
    for (const raw of [
      'ad\u200ba@example.com',
      'ada\u200d@example.com',
      'ada\ufeff@example.com',
      'ada\u00ad@example.com',
      'ad a@example.com',
      'ada@exam\u3164ple.com',
    ]) {
      expect(emailProblem(raw)).toMatch(/invisible/);
    }
  });

  it('refuses bidirectional controls', () => {
    expect(emailProblem('moc.elpmaxe\u202e@ada')).toMatch(/bidirectional/);
    expect(emailProblem('ada\u2067@example.com')).toMatch(/bidirectional/);
  });

  it('refuses a local part or domain label mixing Latin with Cyrillic or Greek look-alikes', () => {
    expect(emailProblem('\u0430da@example.com')).toBe('must not mix scripts in one part (Cyrillic and Latin in "аda")');
    expect(emailProblem('ada@ex\u0430mple.com')).toMatch(/Latin and Cyrillic/);
    expect(emailProblem('\u03bfscar@example.com')).toMatch(/Greek and Latin/);
  });

  it('refuses a lone surrogate', () => {
    expect(emailProblem('ada\ud800@example.com')).toMatch(/well-formed/);
  });
});
