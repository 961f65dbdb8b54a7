// The example's stand-in for a real session (next-auth, Auth.js, your own):
// the signed-in user is whatever the demo_user cookie says. Do not ship this;
// anyone can set a cookie. With next-auth, replace currentUser() by
// `(await auth())?.user?.id` (see docs/nextjs.md).
import 'server-only';
import { cookies } from 'next/headers';

export const SESSION_COOKIE = 'demo_user';

/** A valid user id: what the sign-in form accepts. */
export const USER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** currentUser returns the signed-in user's id, or null. */
export async function currentUser(): Promise<string | null> {
  const v = (await cookies()).get(SESSION_COOKIE)?.value;
  return v && USER_ID.test(v) ? v : null;
}
