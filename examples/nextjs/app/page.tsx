// The page: a sign-in form, or, when signed in, the Herald-powered inbox and
// a button whose server action publishes a notification to the user.
import { signIn, signOut, sendMeANotification } from './actions';
import { Herald } from './herald-provider';
import { Bell, Inbox, LiveStatus } from './notifications';
import { currentUser } from '@/lib/session';

export default async function Page() {
  const user = await currentUser();
  if (!user) {
    return (
      <main>
        <h1>Herald + Next.js</h1>
        <section>
          <form action={signIn}>
            <label>
              User id <input name="user" required pattern="[A-Za-z0-9_.\-]{1,64}" defaultValue="alice" />
            </label>{' '}
            <button className="primary" type="submit">Sign in</button>
          </form>
          <p className="muted">A demo session: the user id is kept in a cookie. Real apps use next-auth or similar.</p>
        </section>
      </main>
    );
  }
  return (
    <Herald key={user}>
      <main>
        <header>
          <h1>Herald + Next.js</h1>
          <Bell />
        </header>
        <div>
          Signed in as <strong data-testid="user">{user}</strong>{' '}
          <form action={signOut} style={{ display: 'inline' }}>
            <button type="submit">Sign out</button>
          </form>
        </div>
        <section>
          <form action={sendMeANotification}>
            <button className="primary" type="submit">Send me a notification</button>
          </form>
          <LiveStatus />
        </section>
        <section>
          <Inbox />
        </section>
      </main>
    </Herald>
  );
}
