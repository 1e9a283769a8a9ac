#!/usr/bin/env python3
"""Writes fuzz/seeds/<target>/ from the test data: Stream's SDK tokens, RFC 7515 A.1,
Wycheproof's JWS cases, and one file per rejection class of tests/reject.rs.
Seed files start with the `verify` target's knob byte (0x10: dev tokens allowed; 0x80: the
rest is header JSON, 0xff, payload JSON, signed by the target)."""
import base64
import hashlib
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent
data = root.parent / "tests" / "data"
seeds = root / "seeds"


def write(target, name, blob):
    d = seeds / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(blob)


tokens = []
for i, line in enumerate((data / "hs256_stream_js.jsonl").read_text().splitlines()):
    tokens.append((f"stream_js_{i:02}", json.loads(line)["token"].encode()))
rfc = json.loads((data / "hs256_rfc7515.json").read_text())
tokens.append(("rfc7515_a1", rfc["token"].encode()))
for group in json.loads((data / "hs256_wycheproof_jws.json").read_text())["testGroups"]:
    for t in group["tests"]:
        tokens.append((f"wycheproof_{t['tcId']}", t["jws"].encode()))
for name, tok in tokens:
    write("verify", name, b"\x10" + tok)
    write("decode", name + "_segment", tok.split(b".")[1] if tok.count(b".") >= 1 else tok)

HS256 = b'{"alg":"HS256","typ":"JWT"}'
classes = {
    "alg_none": (b'{"alg":"none","typ":"JWT"}', b'{"user_id":"a"}'),
    "alg_other": (b'{"alg":"HS512"}', b'{"user_id":"a"}'),
    "alg_missing": (b'{"typ":"JWT"}', b'{"user_id":"a"}'),
    "alg_not_string": (b'{"alg":256}', b'{"user_id":"a"}'),
    "crit": (b'{"alg":"HS256","crit":["exp"]}', b'{"user_id":"a"}'),
    "typ_not_string": (b'{"alg":"HS256","typ":1}', b'{"user_id":"a"}'),
    "header_duplicate": (b'{"alg":"HS256","\\u0061lg":"HS256"}', b'{"user_id":"a"}'),
    "header_whitespace": (b'{ "typ" : "JWT" ,\r\n "alg" : "HS256" }', b'{"user_id":"a"}'),
    "claims_duplicate": (HS256, b'{"user_id":"a","user_id":"b"}'),
    "claims_escaped_duplicate": (HS256, b'{"exp":1,"\\u0065xp":2,"user_id":"a"}'),
    "claims_trailing": (HS256, b'{"user_id":"a"}x'),
    "claims_bom": (HS256, b'\xef\xbb\xbf{"user_id":"a"}'),
    "claims_comment": (HS256, b'{"user_id":"a"/**/}'),
    "claims_single_quotes": (HS256, b"{'user_id':'a'}"),
    "claims_deep": (HS256, b'{"user_id":"a","d":' + b"[" * 20 + b"]" * 20 + b"}"),
    "exp_float": (HS256, b'{"user_id":"a","exp":1.5}'),
    "exp_string": (HS256, b'{"user_id":"a","exp":"1"}'),
    "exp_null": (HS256, b'{"user_id":"a","exp":null}'),
    "exp_negative": (HS256, b'{"user_id":"a","exp":-1}'),
    "exp_overflow": (HS256, b'{"user_id":"a","exp":18446744073709551616}'),
    "exp_max": (HS256, b'{"user_id":"a","exp":18446744073709551615}'),
    "nbf_future": (HS256, b'{"user_id":"a","nbf":4102444800}'),
    "iat_future": (HS256, b'{"user_id":"a","iat":4102444800}'),
    "user_id_number": (HS256, b'{"user_id":7}'),
    "user_id_empty": (HS256, b'{"user_id":""}'),
    "user_id_escapes": (HS256, b'{"user_id":"j\\u00fcrgen \\ud83d\\ude00 \\"q\\""}'),
    "lone_surrogate": (HS256, b'{"user_id":"\\ud800"}'),
    "server_string": (HS256, b'{"server":"true"}'),
    "server_true": (HS256, b'{"server":true}'),
    "no_subject": (HS256, b'{"sub":"a"}'),
    "invalid_utf8": (HS256, b'{"user_id":"\xc3\x28"}'),
    "serde_values": (HS256, b'{"user_id":"a","n":[-0,-1,1.5e-3,18446744073709551616,-9223372036854775809,0],"s":"\\u00e9\\n","o":{"t":true,"f":false,"z":null,"e":[]}}'),
    "custom_claims": (HS256, b'{"user_id":"a","exp":4102444800,"role":"admin","teams":["red",{"x":null}]}'),
    "header_too_many_members": (b'{"alg":"HS256",' + b",".join(b'"m%d":0' % i for i in range(32)) + b"}", b'{"user_id":"a"}'),
    "header_too_long": (b'{"alg":"HS256","pad":"' + b"x" * 400 + b'"}', b'{"user_id":"a"}'),
    "claims_too_many_members": (HS256, b'{"user_id":"a",' + b",".join(b'"m%d":0' % i for i in range(32)) + b"}"),
    "claims_member_cap_nested": (HS256, b'{"user_id":"a","l":[' + b",".join(b'{"a":1,"b":2}' for _ in range(40)) + b"]}"),
    "claims_colliding_names": (HS256, b'{"user_id":"a",' + b",".join(b'"a%04da":0' % i for i in range(30)) + b"}"),
}
for name, (header, payload) in classes.items():
    write("verify", "class_" + name, b"\x80" + header + b"\xff" + payload)
    write("decode", "json_" + name, payload)

secret = b"8hz7kq2wm4xd9v6bn3tj5yr1pc0fa7eu4sg2lh8zk6wq3xm9vd5bt1nj7rc4yp0f"
def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")
import hmac
signed = b64(HS256) + b"." + b64(b'{"user_id":"john"}')
sig = b64(hmac.new(secret, signed, hashlib.sha256).digest())
good = signed + b"." + sig
for name, tok in {
    "segments_two": signed,
    "segments_four": good + b".x",
    "payload_padding": b64(HS256) + b"." + b64(b'{"user_id":"jo"}') + b"==." + sig,
    "payload_standard_alphabet": b64(HS256) + b"." + base64.b64encode(b'{"user_id":"?>?"}') + b"." + sig,
    "payload_whitespace": b64(HS256) + b". " + b64(b'{"user_id":"john"}') + b"." + sig,
    "signature_padding": good + b"=",
    "signature_truncated": good[:-1],
    "too_long": b"a" * 4097,
    "dev_token_server": b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + b64(b'{"user_id":"a","server":true}') + b".devtoken",
}.items():
    write("verify", "class_" + name, b"\x10" + tok)
for i, blob in enumerate([b"", b"A", b"AA", b"AAA", b"AAAA", b"Zm9", b"Zm8", b"-_-_", b"+/+/", b"YWI=", b"\x00\xff"]):
    write("decode", f"b64_{i:02}", blob)
# roundtrip takes Arbitrary input: a few byte patterns to start from.
for i, blob in enumerate([bytes(range(256)), b"\x00" * 200, b"\xff" * 200, "jürgen 😀 \"\\\n".encode() * 8]):
    write("roundtrip", f"bytes_{i}", blob)
print(sum(1 for _ in seeds.rglob("*") if _.is_file()), "seed files")
