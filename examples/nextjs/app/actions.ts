'use server';
// Server actions: the demo sign-in, and publishing a notification to the
// signed-in user. They run on the Next.js server, so the publisher key never
// reaches the browser.
import { cookies } from 'next/headers';
import { revalidatePath } from 'next/cache';
import { notify } from '@/lib/herald';
import { currentUser, SESSION_COOKIE, USER_ID } from '@/lib/session';

export async function signIn(form: FormData) {
  const user = String(form.get('user') ?? '').trim();
  if (!USER_ID.test(user)) return;
  (await cookies()).set(SESSION_COOKIE, user, { httpOnly: true, sameSite: 'lax', path: '/' });
  revalidatePath('/');
}

export async function signOut() {
  (await cookies()).delete(SESSION_COOKIE);
  revalidatePath('/');
}

/** sendMeANotification publishes a notification to the signed-in user. */
export async function sendMeANotification() {
  const userId = await currentUser();
  if (!userId) throw new Error('not signed in');
  const at = new Date().toLocaleTimeString('en-GB');
  await notify({
    userId,
    type: 'demo',
    title: `Hello ${userId}, it is ${at}`,
    message: 'Published by a server action through the publish API.',
  });
}
