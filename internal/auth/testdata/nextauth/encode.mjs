// Encrypts session tokens with the real libraries, for nextauth_test.go.
// stdin: {"secret": "…", "cases": [{"lib": "next-auth" | "authjs", "salt": "…", "token": {…}, "maxAge": s}]}
// stdout: a JSON array of the encrypted tokens, in order.
import nextAuthJWT from 'next-auth/jwt';
import { encode as authjsEncode } from '@auth/core/jwt';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { secret, cases } = JSON.parse(input);
const out = [];
for (const c of cases) {
  if (c.lib === 'next-auth') {
    out.push(await nextAuthJWT.encode({ secret, token: c.token, maxAge: c.maxAge }));
  } else {
    out.push(await authjsEncode({ secret, salt: c.salt, token: c.token, maxAge: c.maxAge }));
  }
}
process.stdout.write(JSON.stringify(out));
