import type { SessionDirectory } from '@app/sessions';
import { ACCOUNT_EMAILS_KEPT, AccountEmails } from './account-emails';

const ALICE = '0190a000-0000-7000-8000-000000000001';
const NOBODY = '0190a000-0000-7000-8000-000000000002';

function directoryOf(emails: Record<string, string>) {
  const findUser = jest.fn(async (userId: string) => (userId in emails ? { id: userId, email: emails[userId] } : null));
  return { directory: { findUser } as unknown as SessionDirectory, findUser };
}

describe('AccountEmails', () => {
  it('reads an account from the directory once, then answers from the process', async () => {
    const { directory, findUser } = directoryOf({ [ALICE]: 'alice@example.com' });
    const emails = new AccountEmails(directory);
    expect(await emails.of(ALICE)).toBe('alice@example.com');
    expect(await emails.of(ALICE)).toBe('alice@example.com');
    expect(findUser).toHaveBeenCalledTimes(1);
  });

  it('keeps no answer for an account that does not exist', async () => {
    const { directory, findUser } = directoryOf({});
    const emails = new AccountEmails(directory);
    expect(await emails.of(NOBODY)).toBeNull();
    expect(await emails.of(NOBODY)).toBeNull();
    expect(findUser).toHaveBeenCalledTimes(2);
  });

  it('keeps a bounded number of accounts, the least recently asked for going first', async () => {
    const accounts = Object.fromEntries(Array.from({ length: ACCOUNT_EMAILS_KEPT + 1 }, (_, i) => [`user-${i}`, `u${i}@example.com`]));
    const { directory, findUser } = directoryOf(accounts);
    const emails = new AccountEmails(directory);
    for (const userId of Object.keys(accounts)) await emails.of(userId);
    findUser.mockClear();
    await emails.of('user-0');
    await emails.of(`user-${ACCOUNT_EMAILS_KEPT}`);
    expect(findUser.mock.calls).toEqual([['user-0']]);
  });
});
