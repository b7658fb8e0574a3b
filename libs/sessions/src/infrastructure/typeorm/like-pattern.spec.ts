import { likePrefixPattern } from './like-pattern';

describe('likePrefixPattern', () => {
  it('matches the prefix and anything after it', () => {
    expect(likePrefixPattern('alice')).toBe('alice%');
    expect(likePrefixPattern('')).toBe('%');
  });

  it('escapes the wildcards and the escape character, so each stands for itself', () => {
    expect(likePrefixPattern('a_b')).toBe('a\\_b%');
    expect(likePrefixPattern('100%')).toBe('100\\%%');
    expect(likePrefixPattern('back\\slash')).toBe('back\\\\slash%');
    expect(likePrefixPattern('\\%_')).toBe('\\\\\\%\\_%');
  });
});
