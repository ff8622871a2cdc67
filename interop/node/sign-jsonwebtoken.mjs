// A customer's server signing the embedding token with jsonwebtoken: the
// reference's snippet, with the user taken from the environment.
import jwt from 'jsonwebtoken';

const user = { email: process.env.EMAIL, firstName: process.env.FIRST_NAME, lastName: process.env.LAST_NAME };

function sign() {
  const token = jwt.sign(
    {
      email: user.email,
      orgId: process.env.ORG_ID,
      firstName: user.firstName,
      lastName: user.lastName,
      role: 'MEMBER',
    },
    process.env.EMBED_JWT_SECRET,
    { expiresIn: '10m' }
  );
  return token;
}

// The interop tests' bad variants. A wrong secret needs no code: the test
// passes another EMBED_JWT_SECRET.
const claims = { email: user.email, orgId: process.env.ORG_ID, firstName: user.firstName, lastName: user.lastName, role: 'MEMBER' };
switch (process.env.VARIANT ?? 'valid') {
  case 'expired': // signed an hour ago, so it expired 50 minutes ago
    console.log(jwt.sign({ ...claims, iat: Math.floor(Date.now() / 1000) - 3600 }, process.env.EMBED_JWT_SECRET, { expiresIn: '10m' }));
    break;
  case 'attributes': // the reference's claims plus attributes and groups from EXTRA_CLAIMS
    console.log(jwt.sign({ ...claims, ...JSON.parse(process.env.EXTRA_CLAIMS) }, process.env.EMBED_JWT_SECRET, { expiresIn: '10m' }));
    break;
  case 'none': // an unsigned token, which jsonwebtoken will produce on request
    console.log(jwt.sign(claims, null, { algorithm: 'none', expiresIn: '10m' }));
    break;
  default:
    console.log(sign());
}
