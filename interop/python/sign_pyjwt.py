"""A customer's server signing the embedding token with PyJWT."""
import json
import os
import time

import jwt


def claims(now):
    return {
        "email": os.environ["EMAIL"],
        "orgId": os.environ["ORG_ID"],
        "firstName": os.environ["FIRST_NAME"],
        "lastName": os.environ["LAST_NAME"],
        "role": "MEMBER",
        "iat": now,
        "exp": now + 600,  # ten minutes
    }


def sign():
    return jwt.encode(claims(int(time.time())), os.environ["EMBED_JWT_SECRET"], algorithm="HS256")


# The interop tests' bad variants (a wrong secret is the test's other secret).
variant = os.environ.get("VARIANT", "valid")
if variant == "expired":  # signed an hour ago
    print(jwt.encode(claims(int(time.time()) - 3600), os.environ["EMBED_JWT_SECRET"], algorithm="HS256"))
elif variant == "attributes":  # the claims plus attributes and groups from EXTRA_CLAIMS
    print(jwt.encode({**claims(int(time.time())), **json.loads(os.environ["EXTRA_CLAIMS"])},
                     os.environ["EMBED_JWT_SECRET"], algorithm="HS256"))
elif variant == "none":  # PyJWT produces an unsigned token on request
    print(jwt.encode(claims(int(time.time())), None, algorithm="none"))
else:
    print(sign())
