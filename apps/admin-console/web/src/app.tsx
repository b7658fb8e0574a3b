/**
 * The admin console page: sign-in, then the users, one user, the audit trail and the overview.
 * The selectors the browser tests use (labels, button texts, data-testid) are listed in
 * ../README.md; change them there too.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem, call, type ConsoleSession, describeError, get, holdSession, setApiHooks } from './api';
import { AuditTrail } from './audit';
import { OverviewPage } from './overview';
import { parseRoute, type Route } from './routes';
import { UserDetail } from './user';
import { UserList } from './users';

export function App() {
  // undefined: still asking GET /admin/auth/session; null: signed out.
  const [session, setSession] = useState<ConsoleSession | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  const [stepUp, setStepUp] = useState<((confirmed: boolean) => void) | null>(null);

  const signedIn = (next: ConsoleSession | null) => {
    holdSession(next);
    setSession(next);
  };

  useEffect(() => {
    const follow = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', follow);
    setApiHooks({
      onSignedOut: () => {
        setNotice('Your console session ended; sign in again.');
        signedIn(null);
      },
      // A function in state is called as an updater: wrap the resolver.
      reauthenticate: () => new Promise<boolean>((resolve) => setStepUp(() => resolve)),
    });
    get<ConsoleSession>('/admin/auth/session').then(signedIn, (error: unknown) => {
      if (!(error instanceof ApiProblem && error.status === 401)) setNotice(describeError(error));
      signedIn(null);
    });
    return () => removeEventListener('hashchange', follow);
  }, []);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(next) => {
          setNotice(null);
          signedIn(next);
        }}
      />
    );

  const signOut = async () => {
    try {
      await call('POST', '/admin/auth/logout');
    } catch {
      // Signed out either way: a failed logout leaves a session the server ends on its own expiry.
    }
    signedIn(null);
  };

  return (
    <>
      <header class="top">
        <span class="product">Sessions admin</span>
        <nav>
          <a href="#/users" aria-current={route.name === 'users' || route.name === 'user' ? 'page' : undefined}>
            Users
          </a>
          <a href="#/audit" aria-current={route.name === 'audit' ? 'page' : undefined}>
            Audit trail
          </a>
          <a href="#/overview" aria-current={route.name === 'overview' ? 'page' : undefined}>
            Overview
          </a>
        </nav>
        <span class="who" data-testid="signed-in-as">
          {session.user.email}
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} session={session} />
      </main>
      {stepUp !== null && (
        <StepUpDialog
          onClose={(confirmed) => {
            setStepUp(null);
            stepUp(confirmed);
          }}
        />
      )}
    </>
  );
}

function Page({ route, session }: { route: Route; session: ConsoleSession }) {
  switch (route.name) {
    case 'users':
      return <UserList search={route.search} session={session} />;
    case 'user':
      // Keyed: another user's page starts from scratch (no state of the previous one).
      return <UserDetail key={route.userId} userId={route.userId} session={session} />;
    case 'audit':
      return <AuditTrail filters={route.filters} />;
    case 'overview':
      return <OverviewPage />;
  }
}

function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (session: ConsoleSession) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { body } = await call<ConsoleSession>('POST', '/admin/auth/login', { email, password });
      setPassword('');
      onSignedIn(body);
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <form data-testid="sign-in" onSubmit={(event) => void submit(event)}>
        <h1>Sessions admin console</h1>
        {notice !== null && <p class="notice">{notice}</p>}
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required value={email} onInput={(event) => setEmail(event.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
          />
        </label>
        {error !== null && (
          <p class="error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

/** Asked for by the API (403 reauthentication_required) before a destructive action on another admin or on many users. */
function StepUpDialog({ onClose }: { onClose: (confirmed: boolean) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call('POST', '/admin/auth/reauthenticate', { password });
      onClose(true);
    } catch (caught) {
      setError(describeError(caught));
      setBusy(false);
    }
  };
  return (
    <dialog ref={dialog} data-testid="step-up" aria-labelledby="step-up-title" onCancel={() => onClose(false)}>
      <form onSubmit={(event) => void submit(event)}>
        <h2 id="step-up-title">Confirm it is you</h2>
        <p>This action needs your password again.</p>
        <label>
          Password
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            autoFocus
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
          />
        </label>
        {error !== null && (
          <p class="error" role="alert" data-testid="step-up-error">
            {error}
          </p>
        )}
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            Confirm
          </button>
          <button type="button" onClick={() => onClose(false)} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
