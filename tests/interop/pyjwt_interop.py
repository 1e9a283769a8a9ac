"""PyJWT side of the interop test (tests/pyjwt.rs runs it).

`verify`: reads JSON lines {"alg", "secret_hex", "token"} on stdin, verifies each token with
PyJWT, and prints {"header", "claims"} per line (or {"error"}).
`sign`: prints JSON lines {"alg", "secret_hex", "claims", "token"} for tokens PyJWT signs.
"""
import json
import sys

import jwt

SECRET = bytes(range(1, 65))
CASES = [
    ("HS256", {"user_id": "john"}),
    ("HS256", {"user_id": "john", "exp": 4102444800, "iat": 1700000000}),
    ("HS256", {"user_id": "jürgen", "exp": 4102444800}),  # PyJWT escapes non-ASCII as \u00fc
    ("HS256", {"user_id": "a\"b\\c\n\u0001/", "role": "admin", "teams": ["red", {"x": None}]}),
    ("HS256", {"server": True}),
    ("HS384", {"user_id": "john", "iat": 1700000000}),
    ("HS512", {"user_id": "😀", "nbf": 1700000000}),
]


def main():
    if sys.argv[1] == "verify":
        for line in sys.stdin:
            case = json.loads(line)
            try:
                claims = jwt.decode(
                    case["token"],
                    bytes.fromhex(case["secret_hex"]),
                    algorithms=[case["alg"]],
                    options={"require": []},
                )
                out = {"header": jwt.get_unverified_header(case["token"]), "claims": claims}
            except jwt.PyJWTError as e:
                out = {"error": repr(e)}
            print(json.dumps(out), flush=True)
    else:
        for alg, claims in CASES:
            token = jwt.encode(claims, SECRET, algorithm=alg)
            print(json.dumps({"alg": alg, "secret_hex": SECRET.hex(), "claims": claims, "token": token}))


if __name__ == "__main__":
    main()
