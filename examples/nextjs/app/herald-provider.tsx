'use client';
// One Herald client for the signed-in part of the page. getToken asks the
// app's own route handler (same origin, so the session cookie goes with it)
// for a short-lived Herald token; the client calls it again when Herald
// refuses an expired one.
import type { ReactNode } from 'react';
import { HeraldProvider } from '@herald-notify/client/react';

async function getToken() {
  const res = await fetch('/api/herald-token', { method: 'POST' });
  if (!res.ok) throw new Error(`herald token: ${res.status}`);
  return (await res.json()).token as string;
}

export function Herald({ children }: { children: ReactNode }) {
  return (
    <HeraldProvider url={process.env.NEXT_PUBLIC_HERALD_URL} getToken={getToken}>
      {children}
    </HeraldProvider>
  );
}
