// A customer's server signing the embedding token with jose.
import { SignJWT, UnsecuredJWT } from 'jose';

const claims = {
  email: process.env.EMAIL,
  orgId: process.env.ORG_ID,
  firstName: process.env.FIRST_NAME,
  lastName: process.env.LAST_NAME,
  role: 'MEMBER',
};

async function sign() {
  const secret = new TextEncoder().encode(process.env.EMBED_JWT_SECRET);
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(secret);
}

// The interop tests' bad variants (a wrong secret is the test's other secret).
const now = Math.floor(Date.now() / 1000);
switch (process.env.VARIANT ?? 'valid') {
  case 'expired':
    console.log(await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now - 3600).setExpirationTime(now - 3000)
      .sign(new TextEncoder().encode(process.env.EMBED_JWT_SECRET)));
    break;
  case 'attributes': // the claims plus attributes and groups from EXTRA_CLAIMS
    console.log(await new SignJWT({ ...claims, ...JSON.parse(process.env.EXTRA_CLAIMS) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime('10m')
      .sign(new TextEncoder().encode(process.env.EMBED_JWT_SECRET)));
    break;
  case 'none': // jose's unsecured JWT: alg "none", empty signature
    console.log(new UnsecuredJWT(claims).setIssuedAt().setExpirationTime('10m').encode());
    break;
  default:
    console.log(await sign());
}
