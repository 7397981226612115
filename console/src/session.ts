// The console user's session (issue 20: people, not keys): POST
// /v1/console/session logs in and sets an HttpOnly cookie; the answer's CSRF
// token goes on every state change (api.ts). The role decides which screens
// offer which actions; the API decides what is allowed.
import { setCsrfToken, withConsoleHeaders } from './api';

export type Role = 'viewer' | 'operator' | 'admin';

export interface ConsoleUser {
  name: string;
  role: Role;
}

interface SessionAnswer {
  user: ConsoleUser;
  csrfToken: string;
}

async function sessionRequest(method: string, body?: unknown): Promise<Response> {
  return fetch('/v1/console/session', {
    method,
    credentials: 'same-origin',
    headers: withConsoleHeaders(
      method,
      new Headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    ),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function currentSession(): Promise<ConsoleUser | null> {
  const res = await sessionRequest('GET');
  if (res.status !== 200) return null;
  const answer = (await res.json()) as SessionAnswer;
  setCsrfToken(answer.csrfToken);
  return answer.user;
}

export async function logIn(username: string, password: string): Promise<ConsoleUser | string> {
  const res = await sessionRequest('POST', { username, password });
  if (res.status !== 200) {
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    return body.message ?? `HTTP ${res.status}`;
  }
  const answer = (await res.json()) as SessionAnswer;
  setCsrfToken(answer.csrfToken);
  return answer.user;
}

export async function logOut(): Promise<void> {
  await sessionRequest('DELETE');
  setCsrfToken('');
}

export function can(user: ConsoleUser, action: 'write' | 'admin'): boolean {
  if (action === 'admin') return user.role === 'admin';
  return user.role === 'operator' || user.role === 'admin';
}
