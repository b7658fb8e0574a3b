import { useEffect, useState } from 'preact/hooks';
import { ActionForm, type Receipt, ReceiptView } from './actions';
import { call, type ConsoleSession, describeError, get } from './api';
import { queryString, routeHref, USER_STATUSES, userHref, type UserSearch, type UserStatus } from './routes';
import { Time } from './time';
import type { BulkRevocationAnswer, UserPage, UserView } from './views';

const PAGE_SIZE = 25;

export function StatusBadge({ user }: { user: UserView }) {
  if (user.status === 'locked')
    return (
      <span class="badge warn">
        locked until <TimeOrUnknown iso={user.lockedUntil} />
      </span>
    );
  return <span class={`badge ${user.status === 'disabled' ? 'bad' : 'ok'}`}>{user.status}</span>;
}

function TimeOrUnknown({ iso }: { iso: string | null }) {
  return <Time iso={iso} empty="unknown" />;
}

/** Search (email prefix or exact id), a status filter, a page at a time, and a bulk sign-out of the selected users. */
export function UserList({ search, session }: { search: UserSearch; session: ConsoleSession }) {
  const [query, setQuery] = useState(search.query ?? '');
  const [status, setStatus] = useState<UserStatus | ''>(search.status ?? '');
  const [users, setUsers] = useState<readonly UserView[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [bulkOpen, setBulkOpen] = useState(false);
  const [keepOwn, setKeepOwn] = useState(true);
  const [receipt, setReceipt] = useState<Receipt | null>(null);

  const load = async (cursor: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const page = await get<UserPage>(`/admin/users${queryString({ query: search.query, status: search.status, limit: PAGE_SIZE, cursor })}`);
      setUsers((shown) => (cursor === null ? page.users : [...shown, ...page.users]));
      setNextCursor(page.nextCursor);
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    setQuery(search.query ?? '');
    setStatus(search.status ?? '');
    setSelected(new Set());
    void load(null);
  }, [search.query, search.status]);

  const toggle = (userId: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (!next.delete(userId)) next.add(userId);
      return next;
    });
  const allSelected = users.length > 0 && users.every((user) => selected.has(user.id));

  const revokeSelected = async (reason: string): Promise<Receipt> => {
    const userIds = [...selected];
    const answer = await call<BulkRevocationAnswer>('POST', '/admin/users/sessions/revoke-all', {
      userIds,
      reason,
      ...(keepOwn ? { keepSessionId: session.sessionId } : {}),
    });
    return {
      title: `Signed out ${answer.body.results.length} user${answer.body.results.length === 1 ? '' : 's'}`,
      revokedCount: answer.body.revokedCount,
      accessTokens: { validUntil: undefined },
      requestId: answer.requestId,
    };
  };

  return (
    <section>
      <h1>Users</h1>
      <form
        class="toolbar"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          location.hash = routeHref({ name: 'users', search: { query, status: status === '' ? undefined : status } });
        }}
      >
        <label>
          Search
          <input
            type="search"
            name="query"
            value={query}
            onInput={(event) => setQuery(event.currentTarget.value)}
            placeholder="email prefix or user id"
            size={36}
          />
        </label>
        <label>
          Status
          <select name="status" value={status} onChange={(event) => setStatus(event.currentTarget.value as UserStatus | '')}>
            <option value="">any</option>
            {USER_STATUSES.map((known) => (
              <option key={known} value={known}>
                {known}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary">
          Search
        </button>
        <span class="spacer" />
        <button
          type="button"
          class="danger"
          disabled={selected.size === 0}
          onClick={() => {
            setReceipt(null);
            setBulkOpen(true);
          }}
        >
          Sign out selected ({selected.size})
        </button>
      </form>
      {bulkOpen && (
        <ActionForm
          title={`Sign out ${selected.size} selected user${selected.size === 1 ? '' : 's'} everywhere`}
          submitLabel="Sign out selected"
          danger
          onSubmit={revokeSelected}
          onDone={(done) => {
            setBulkOpen(false);
            setSelected(new Set());
            setReceipt(done);
            void load(null);
          }}
          onCancel={() => setBulkOpen(false)}
        >
          <label class="inline">
            <input type="checkbox" name="keepOwn" checked={keepOwn} onChange={(event) => setKeepOwn(event.currentTarget.checked)} />
            Keep my console session
          </label>
        </ActionForm>
      )}
      {receipt !== null && <ReceiptView receipt={receipt} onClose={() => setReceipt(null)} />}
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <table data-testid="users-table" class="grid">
        <thead>
          <tr>
            <th class="check">
              <input
                type="checkbox"
                aria-label="Select all shown"
                checked={allSelected}
                onChange={() => setSelected(allSelected ? new Set() : new Set(users.map((user) => user.id)))}
              />
            </th>
            <th>Email</th>
            <th>Role</th>
            <th>Status</th>
            <th>Created</th>
            <th>Last sign-in</th>
            <th class="number">Active sessions</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id} data-testid="user-row" data-user-id={user.id} class={selected.has(user.id) ? 'selected' : undefined}>
              <td class="check">
                <input type="checkbox" aria-label={`Select ${user.email}`} checked={selected.has(user.id)} onChange={() => toggle(user.id)} />
              </td>
              <td>
                <a href={userHref(user.id)}>{user.email}</a>
              </td>
              <td>{user.role === 'admin' ? <span class="badge admin">admin</span> : 'user'}</td>
              <td>
                <StatusBadge user={user} />
              </td>
              <td>
                <Time iso={user.createdAt} />
              </td>
              <td>
                <Time iso={user.lastLoginAt} empty="never" />
              </td>
              <td class="number">{user.activeSessions}</td>
            </tr>
          ))}
          {!loading && users.length === 0 && error === null && (
            <tr>
              <td colSpan={7} class="muted">
                No user matches.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <p class="pager">
        {loading && <span class="muted">Loading…</span>}
        {!loading && nextCursor !== null && (
          <button type="button" onClick={() => void load(nextCursor)}>
            Load more
          </button>
        )}
      </p>
    </section>
  );
}
