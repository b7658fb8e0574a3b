import { decodeUserCursor, encodeUserCursor } from './user-cursor';

const ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

describe('the user list cursor', () => {
  it('gives back the position it was made from, emails of any script included', () => {
    for (const email of ['alice@example.com', 'a_b%c\\d@example.com', 'jürgen@xn--exmple-cua.com', '用户@example.com']) {
      const cursor = encodeUserCursor({ email, id: ID });
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeUserCursor(cursor)).toEqual({ email, id: ID });
    }
  });

  it('refuses anything it did not make', () => {
    const valid = encodeUserCursor({ email: 'alice@example.com', id: ID });
    const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      '',
      'not base64!',
      `${valid}=`,
      'x'.repeat(2_000),
      Buffer.from('not json').toString('base64url'),
      base64url({ email: 'alice@example.com', id: ID }),
      base64url(['alice@example.com']),
      base64url(['alice@example.com', 'not-a-uuid']),
      base64url(['alice@example.com', ID.toUpperCase()]),
      base64url(['', ID]),
      base64url([42, ID]),
      base64url(['nul\u0000@example.com', ID]),
      base64url(['alice@example.com', ID, 'extra']),
    ]) {
      expect({ cursor, decoded: decodeUserCursor(cursor) }).toEqual({ cursor, decoded: null });
    }
    expect(decodeUserCursor(undefined)).toBeNull();
    expect(decodeUserCursor(42)).toBeNull();
  });
});
