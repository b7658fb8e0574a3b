import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ADMIN_REASON_MAX_LENGTH, ADMIN_REASON_MIN_LENGTH } from '../../../../libs/sessions/src/domain/revocation-reason';
import { describeError } from './api';
import { auditHref } from './routes';
import { Time } from './time';

/** What an action leaves on screen once it answered: the operator's proof of what happened, and where its audit entries are. */
export interface Receipt {
  readonly title: string;
  /** Sessions ended; absent for actions that end none (enable, unlock, a role change). */
  readonly revokedCount?: number;
  /** The access tokens of the ended sessions: refused from now on, and when the last would have died anyway. */
  readonly accessTokens?: { readonly validUntil: string | null | undefined };
  readonly requestId: string | null;
  /** Anything else the action answered (the one-time reset token). */
  readonly extra?: ComponentChildren;
}

export function ReceiptView({ receipt, onClose }: { receipt: Receipt; onClose: () => void }) {
  return (
    <section class="receipt" data-testid="receipt" aria-live="polite">
      <h3>{receipt.title}</h3>
      <dl class="facts">
        {receipt.revokedCount !== undefined && (
          <>
            <dt>Sessions ended</dt>
            <dd data-testid="receipt-revoked-count">{receipt.revokedCount}</dd>
          </>
        )}
        {receipt.accessTokens !== undefined && (
          <>
            <dt>Access tokens</dt>
            <dd data-testid="receipt-access-tokens">
              refused from now on
              {receipt.accessTokens.validUntil ? (
                <>
                  {'; the last one would have expired on its own at '}
                  <Time iso={receipt.accessTokens.validUntil} />
                </>
              ) : null}
            </dd>
          </>
        )}
      </dl>
      {receipt.extra}
      <p>
        {receipt.requestId ? (
          <a href={auditHref({ requestId: receipt.requestId })} data-testid="receipt-audit-link">
            audit entries
          </a>
        ) : (
          <span class="muted">no request id: find the entries in the audit trail by user</span>
        )}{' '}
        <button type="button" class="link" onClick={onClose}>
          Dismiss
        </button>
      </p>
    </section>
  );
}

export interface ActionFormProps {
  readonly title: string;
  readonly submitLabel: string;
  /** Destructive actions get a red button. */
  readonly danger?: boolean;
  /** Fields of the action besides the reason (a session to keep, a role). */
  readonly children?: ComponentChildren;
  readonly onSubmit: (reason: string) => Promise<Receipt>;
  readonly onDone: (receipt: Receipt) => void;
  readonly onCancel: () => void;
}

/** Every action asks why (the reason goes into the audit trail); the form stays until the API answered. */
export function ActionForm({ title, submitLabel, danger, children, onSubmit, onDone, onCancel }: ActionFormProps) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onDone(await onSubmit(reason.trim()));
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="action-form" data-testid="action-form" onSubmit={(event) => void submit(event)}>
      <h3>{title}</h3>
      {children}
      <label>
        Reason
        <input
          name="reason"
          required
          minLength={ADMIN_REASON_MIN_LENGTH}
          maxLength={ADMIN_REASON_MAX_LENGTH}
          value={reason}
          onInput={(event) => setReason(event.currentTarget.value)}
          placeholder="Why (kept in the audit trail)"
          autoFocus
        />
      </label>
      {error !== null && (
        <p class="error" role="alert" data-testid="action-error">
          {error}
        </p>
      )}
      <div class="buttons">
        <button type="submit" class={danger ? 'danger' : 'primary'} disabled={busy}>
          {submitLabel}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
