import { useEffect, useState } from 'preact/hooks';
import { ActionForm, type Receipt, ReceiptView } from './actions';
import { call, type ConsoleSession, describeError, get } from './api';
import { auditHref, userHref } from './routes';
import { Time } from './time';
import { StatusBadge } from './users';
import type { PasswordResetAnswer, RevocationAnswer, SessionView, UserView } from './views';

type Action =
  | { readonly kind: 'revoke'; readonly session: SessionView }
  | { readonly kind: 'revoke-all' }
  | { readonly kind: 'disable' }
  | { readonly kind: 'enable' }
  | { readonly kind: 'unlock' }
  | { readonly kind: 'password-reset' }
  | { readonly kind: 'role'; readonly role: 'user' | 'admin' };

function deviceText(session: SessionView): string {
  const device = session.device;
  const parts = [device?.browser, device?.os, device?.type].filter((part): part is string => typeof part === 'string' && part !== '');
  return parts.length > 0 ? parts.join(' · ') : 'unknown device';
}

/** The raw User-Agent under the device read from it: what the parser did not recognise is still there to read (as text). */
function UserAgent({ value }: { value: string | null }) {
  return value === null ? null : <div class="user-agent">{value}</div>;
}

/** One user: profile and status, active and ended sessions, and every action on the account with its receipt. */
export function UserDetail({ userId, session }: { userId: string; session: ConsoleSession }) {
  const [user, setUser] = useState<UserView | null>(null);
  const [sessions, setSessions] = useState<readonly SessionView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [action, setAction] = useState<Action | null>(null);
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const [keepSessionId, setKeepSessionId] = useState('');

  const load = async () => {
    try {
      const path = `/admin/users/${encodeURIComponent(userId)}`;
      const [found, list] = await Promise.all([get<UserView>(path), get<{ sessions: SessionView[] }>(`${path}/sessions?include=revoked`)]);
      setUser(found);
      setSessions(list.sessions);
      setError(null);
    } catch (caught) {
      setError(describeError(caught));
    }
  };

  useEffect(() => {
    void load();
  }, [userId]);

  if (user === null) {
    return error === null ? (
      <p class="loading">Loading…</p>
    ) : (
      <p class="error" role="alert">
        {error}
      </p>
    );
  }

  const active = sessions.filter((item) => !item.revokedAt && new Date(item.expiresAt).getTime() > Date.now());
  const ended = sessions.filter((item) => !active.includes(item));
  const base = `/admin/users/${encodeURIComponent(user.id)}`;
  const isSelf = user.id === session.user.id;

  const open = (next: Action) => {
    setReceipt(null);
    setKeepSessionId(next.kind === 'revoke-all' && isSelf ? session.sessionId : '');
    setAction(next);
  };

  const revocationReceipt = (title: string, answer: { body: RevocationAnswer | undefined; requestId: string | null }): Receipt => ({
    title,
    revokedCount: answer.body?.revokedCount,
    accessTokens: { validUntil: answer.body?.accessTokensValidUntil },
    requestId: answer.requestId,
  });

  const perform = async (current: Action, reason: string): Promise<Receipt> => {
    switch (current.kind) {
      case 'revoke': {
        const answer = await call('POST', `/admin/sessions/${encodeURIComponent(current.session.id)}/revoke`, { reason });
        // A single revoke answers 204: the bound is the token lifetime from now (an upper bound, as the other receipts').
        const validUntil = new Date(Date.now() + session.accessTokenTtlSeconds * 1_000).toISOString();
        return { title: 'Session revoked', revokedCount: 1, accessTokens: { validUntil }, requestId: answer.requestId };
      }
      case 'revoke-all': {
        const body = keepSessionId === '' ? { reason } : { reason, keepSessionId };
        return revocationReceipt('Signed out everywhere', await call<RevocationAnswer>('POST', `${base}/sessions/revoke-all`, body));
      }
      case 'disable':
        return revocationReceipt('Account disabled', await call<RevocationAnswer>('POST', `${base}/disable`, { reason }));
      case 'enable':
        return { title: 'Account enabled', requestId: (await call('POST', `${base}/enable`, { reason })).requestId };
      case 'unlock':
        return { title: 'Login lockout cleared', requestId: (await call('POST', `${base}/unlock`, { reason })).requestId };
      case 'role': {
        const answer = await call('PUT', `${base}/role`, { role: current.role, reason });
        return { title: current.role === 'admin' ? 'Now an administrator' : 'No longer an administrator', requestId: answer.requestId };
      }
      case 'password-reset': {
        const answer = await call<PasswordResetAnswer>('POST', `${base}/require-password-reset`, { reason });
        return {
          ...revocationReceipt('Password reset required', answer),
          extra: (
            <div class="secret">
              <p>
                One-time reset token for the user (shown once; valid until <Time iso={answer.body.expiresAt} />
                ), for POST /auth/password/reset:
              </p>
              <code data-testid="reset-token">{answer.body.resetToken}</code>
            </div>
          ),
        };
      }
    }
  };

  const titles: Record<Action['kind'], string> = {
    revoke: 'Revoke this session',
    'revoke-all': `Sign out ${user.email} everywhere`,
    disable: `Disable ${user.email} (every session ends)`,
    enable: `Enable ${user.email}`,
    unlock: `Clear the login lockout of ${user.email}`,
    'password-reset': `Require a password reset of ${user.email} (every session ends)`,
    role: action?.kind === 'role' && action.role === 'admin' ? `Make ${user.email} an administrator` : `Remove ${user.email}'s administrator role`,
  };

  return (
    <section>
      <p class="crumbs">
        <a href="#/users">Users</a> / {user.email}
      </p>
      <h1>{user.email}</h1>
      <dl class="facts profile" data-testid="user-profile">
        <dt>Id</dt>
        <dd>
          <code>{user.id}</code> <a href={auditHref({ userId: user.id })}>audit entries</a>
        </dd>
        <dt>Role</dt>
        <dd data-testid="user-role">{user.role}</dd>
        <dt>Status</dt>
        <dd data-testid="user-status">
          <StatusBadge user={user} />
          {user.passwordResetRequired && <span class="badge warn">password reset required</span>}
        </dd>
        <dt>Created</dt>
        <dd>
          <Time iso={user.createdAt} />
        </dd>
        <dt>Last sign-in</dt>
        <dd>
          <Time iso={user.lastLoginAt} empty="never" />
        </dd>
        <dt>Active sessions</dt>
        <dd>{user.activeSessions}</dd>
      </dl>

      <div class="toolbar actions">
        <button type="button" class="danger" onClick={() => open({ kind: 'revoke-all' })}>
          Sign out everywhere
        </button>
        {user.status === 'disabled' ? (
          <button type="button" onClick={() => open({ kind: 'enable' })}>
            Enable
          </button>
        ) : (
          <button type="button" class="danger" onClick={() => open({ kind: 'disable' })}>
            Disable
          </button>
        )}
        <button type="button" onClick={() => open({ kind: 'unlock' })}>
          Unlock
        </button>
        <button type="button" class="danger" onClick={() => open({ kind: 'password-reset' })}>
          Require password reset
        </button>
        {user.role === 'admin' ? (
          <button type="button" onClick={() => open({ kind: 'role', role: 'user' })}>
            Remove admin
          </button>
        ) : (
          <button type="button" onClick={() => open({ kind: 'role', role: 'admin' })}>
            Make admin
          </button>
        )}
      </div>

      {action !== null && (
        <ActionForm
          key={action.kind === 'revoke' ? `revoke-${action.session.id}` : action.kind}
          title={titles[action.kind]}
          submitLabel={action.kind === 'revoke' ? 'Revoke' : 'Confirm'}
          danger={['revoke', 'revoke-all', 'disable', 'password-reset'].includes(action.kind)}
          onSubmit={(reason) => perform(action, reason)}
          onDone={(done) => {
            setAction(null);
            setReceipt(done);
            void load();
          }}
          onCancel={() => setAction(null)}
        >
          {action.kind === 'revoke' && (
            <p>
              {deviceText(action.session)} from {action.session.ipAddress ?? 'an unknown address'}, signed in <Time iso={action.session.createdAt} />
            </p>
          )}
          {action.kind === 'revoke-all' && (
            <label>
              Keep session
              <select name="keepSessionId" value={keepSessionId} onChange={(event) => setKeepSessionId(event.currentTarget.value)}>
                <option value="">none: end them all</option>
                {active.map((item) => (
                  <option key={item.id} value={item.id}>
                    {deviceText(item)}, {item.ipAddress ?? 'unknown IP'}
                    {item.current ? ' (this is you)' : ''} — {item.id.slice(0, 8)}
                  </option>
                ))}
              </select>
            </label>
          )}
        </ActionForm>
      )}
      {receipt !== null && <ReceiptView receipt={receipt} onClose={() => setReceipt(null)} />}
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}

      <h2>Active sessions ({active.length})</h2>
      <table class="grid" data-testid="sessions-table">
        <thead>
          <tr>
            <th>Device</th>
            <th>IP address</th>
            <th>Created</th>
            <th>Last seen</th>
            <th>Expires</th>
            <th>Session</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {active.map((item) => (
            <tr key={item.id} data-testid="session-row" data-session-id={item.id}>
              <td title={item.userAgent ?? undefined}>
                {deviceText(item)}{' '}
                {item.current && (
                  <span class="badge you" data-testid="current-session">
                    this is you
                  </span>
                )}
                <UserAgent value={item.userAgent} />
              </td>
              <td>{item.ipAddress ?? <span class="muted">—</span>}</td>
              <td>
                <Time iso={item.createdAt} />
              </td>
              <td>
                <Time iso={item.lastSeenAt} />
              </td>
              <td>
                <Time iso={item.expiresAt} />
              </td>
              <td>
                <a href={auditHref({ sessionId: item.id })} title={item.id}>
                  <code>{item.id.slice(0, 8)}</code>
                </a>
              </td>
              <td class="row-actions">
                <button type="button" class="small danger" onClick={() => open({ kind: 'revoke', session: item })}>
                  Revoke
                </button>
              </td>
            </tr>
          ))}
          {active.length === 0 && (
            <tr>
              <td colSpan={7} class="muted">
                No active session.
              </td>
            </tr>
          )}
        </tbody>
      </table>

      <h2>Ended sessions ({ended.length})</h2>
      <table class="grid" data-testid="revoked-sessions-table">
        <thead>
          <tr>
            <th>Device</th>
            <th>IP address</th>
            <th>Created</th>
            <th>Ended</th>
            <th>Why</th>
            <th>By</th>
            <th>Session</th>
          </tr>
        </thead>
        <tbody>
          {ended.map((item) => (
            <tr key={item.id} data-testid="revoked-session-row" data-session-id={item.id}>
              <td title={item.userAgent ?? undefined}>
                {deviceText(item)}
                <UserAgent value={item.userAgent} />
              </td>
              <td>{item.ipAddress ?? <span class="muted">—</span>}</td>
              <td>
                <Time iso={item.createdAt} />
              </td>
              <td>{item.revokedAt ? <Time iso={item.revokedAt} /> : <span class="muted">expired</span>}</td>
              <td>{item.revokedReason ?? <span class="muted">—</span>}</td>
              <td>
                {item.revokedBy ? (
                  <a href={userHref(item.revokedBy)} title={item.revokedBy}>
                    <code>{item.revokedBy === user.id ? 'the user' : item.revokedBy.slice(0, 8)}</code>
                  </a>
                ) : (
                  <span class="muted">system</span>
                )}
              </td>
              <td>
                <a href={auditHref({ sessionId: item.id })} title={item.id}>
                  <code>{item.id.slice(0, 8)}</code>
                </a>
              </td>
            </tr>
          ))}
          {ended.length === 0 && (
            <tr>
              <td colSpan={7} class="muted">
                None.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
