// Pieces every screen uses: loading an API answer, the page frame, run status
// badges in the manual's colours, errors, confirmation dialogs and pagers.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { t } from './i18n';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` change (and on `reload()`), keeping the last answer
 * while the next loads. `load` returns the data or throws an Error whose message
 * is shown. `refreshMs` polls (e.g. a running run's progress).
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(e instanceof Error ? e.message : String(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(reload, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, reload]);
  return { data, error, loading, reload };
}

/** Unwraps an openapi-fetch answer: its data, or an Error with the API's message. */
export function must<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data !== undefined && answer.response.ok) return answer.data;
  const err = answer.error as { message?: string } | undefined;
  throw new Error(err?.message ?? `HTTP ${answer.response.status}`);
}

export function Page(props: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} | ${t('appTitle')}`;
  }, [props.title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-header">
        <h1 id="page-title" ref={heading} tabIndex={-1}>
          {props.title}
        </h1>
        {props.actions ? <div class="page-actions">{props.actions}</div> : null}
      </header>
      {props.children}
    </section>
  );
}

export function ErrorBanner(props: { message: string | null }) {
  if (!props.message) return null;
  return (
    <p class="error-banner" role="alert">
      {t('error')}: {props.message}
    </p>
  );
}

export function Loading(props: { loading: boolean }) {
  return props.loading ? (
    <p class="loading" aria-live="polite">
      {t('loading')}
    </p>
  ) : null;
}

/** The manual's colours: 送信予約 black, 準備中 yellow, 実行中 green, 完了 blue, エラー red. */
export function StatusBadge(props: { status: string; label: string }) {
  return (
    <span class={`status status-${props.status}`} data-status={props.status}>
      {props.label}
    </span>
  );
}

export function ProgressBar(props: { value: number; max: number; label: string }) {
  const pct = props.max > 0 ? Math.min(100, Math.round((props.value / props.max) * 100)) : 0;
  return (
    <div
      class="progress"
      role="progressbar"
      aria-label={props.label}
      aria-valuemin={0}
      aria-valuemax={props.max}
      aria-valuenow={props.value}
    >
      <div class="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

/**
 * A confirmation in a modal <dialog> (keyboard: focus moves in, Escape
 * cancels). `message` says what will happen.
 */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  message: ComponentChildren;
  confirmLabel?: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onCancel={props.onCancel}>
      <h2 id="confirm-title">{props.title}</h2>
      <div class="confirm-message">{props.message}</div>
      <div class="confirm-actions">
        <button type="button" onClick={props.onCancel}>
          {t('cancel')}
        </button>
        <button type="button" class="danger" onClick={props.onConfirm}>
          {props.confirmLabel ?? t('confirm')}
        </button>
      </div>
    </dialog>
  );
}

/** Next/previous for the API's cursor pages. */
export function Pager(props: {
  hasPrevious: boolean;
  nextCursor?: string | null;
  onPrevious: () => void;
  onNext: () => void;
}) {
  return (
    <nav class="pager" aria-label="pages">
      <button type="button" disabled={!props.hasPrevious} onClick={props.onPrevious}>
        {t('previous')}
      </button>
      <button type="button" disabled={!props.nextCursor} onClick={props.onNext}>
        {t('next')}
      </button>
    </nav>
  );
}
