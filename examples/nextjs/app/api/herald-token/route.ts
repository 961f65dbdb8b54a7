// Mints a short-lived Herald subscriber token for the signed-in user: an
// HS256 JWT whose sub is the user id (SPEC 2). The browser's client calls it
// on start and again when Herald refuses an expired token.
import { SignJWT } from 'jose';
import { currentUser } from '@/lib/session';

const key = new TextEncoder().encode(process.env.HERALD_JWT_SECRET);

export async function POST() {
  const userId = await currentUser(); // with Auth.js v5: (await auth())?.user?.id
  if (!userId) return new Response(null, { status: 401 });
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(key);
  return Response.json({ token }, { headers: { 'Cache-Control': 'no-store' } });
}
