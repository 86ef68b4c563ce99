#!/usr/bin/env python3
"""make_seeds.py — writes the committed seed corpora under tests/fuzz/corpus/<target>/: a few
valid and almost-valid inputs per parser. Rerun after changing it; libFuzzer grows from these."""
import base64, json, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
D = "sha256:" + "a" * 64


def msgpack(value):
    """A tiny msgpack encoder (str, int, bool, None, list, dict, float) for the seeds."""
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        return struct.pack(">Bq", 0xd3, value) if value > 127 or value < 0 else bytes([value])
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        b = value.encode()
        return (bytes([0xa0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(value, list):
        return bytes([0x90 | len(value)]) + b"".join(msgpack(v) for v in value)
    if isinstance(value, dict):
        return bytes([0x80 | len(value)]) + b"".join(msgpack(k) + msgpack(v) for k, v in value.items())
    if isinstance(value, bytes):  # an extension: Terraform's unknown value
        return b"\xd4\x00\x00"
    raise TypeError(value)


def pb_field(number, payload):
    """A length-delimited protobuf field."""
    key = (number << 3) | 2
    out = bytes([key])
    n = len(payload)
    while n >= 0x80:
        out += bytes([(n & 0x7f) | 0x80])
        n >>= 7
    return out + bytes([n]) + payload


def h2_frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def grpc_stream(path, message):
    def literal(name, value):  # literal header field without indexing, new name
        return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
    headers = (literal(b":method", b"POST") + literal(b":scheme", b"http") + literal(b":path", path)
               + literal(b":authority", b"localhost") + literal(b"content-type", b"application/grpc")
               + literal(b"te", b"trailers"))
    body = b"\x00" + struct.pack(">I", len(message)) + message
    return (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0, b"") + h2_frame(1, 4, 1, headers)
            + h2_frame(0, 1, 1, body))


config = {"resource": "x", "api_token": "t", "values": [1, 2.5, True, None], "unknown": b"u"}
auth = base64.b64encode(b"user:pa:ss").decode()
SEEDS = {
    "fuzz_image_ref": [b"nginx", b"ghcr.io/org/app:1.2", b"localhost:5000/a/b@" + D.encode(),
                       b"docker.io/library/nginx:latest@" + D.encode(), b"UPPER/case", b"a//b",
                       b"[::1]:5000/x:y", b"x:" + b"a" * 130],
    "fuzz_registry_pattern": [b"ghcr.io\nghcr.io/org/app", b"https://index.docker.io/v1/\nnginx",
                              b"*.example.com/team\nx.example.com/team/app:1", b"127.0.0.1:5000",
                              b"HTTP://Host:99999/", b"*.*\na.b/c"],
    "fuzz_docker_config": [json.dumps({"auths": {"ghcr.io": {"auth": auth}}}).encode(),
                           json.dumps({"auths": {"r.io": {"username": "u", "password": "p"},
                                                 "bad key": {"auth": "!!"}}}).encode(),
                           json.dumps({"auths": {"x": {"auth": base64.b64encode(b"nocolon").decode()}}}).encode(),
                           b"{\"auths\": []}", b"[]"],
    "fuzz_auth_challenge": [b'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"',
                            b'Basic realm="Registry"', b'Bearer realm="x", error="invalid_token", Basic realm=y',
                            b'bearer REALM=unquoted,service="a\\"b"', b'Negotiate, Bearer realm='],
    "fuzz_manifest": [
        b"\x01" + json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                              "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D,
                                             "size": 10, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                                            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D,
                                             "size": 10, "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}}]}).encode(),
        b"\x02" + json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                              "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D, "size": 5},
                              "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D, "size": 7}]}).encode(),
        b"\x04" + json.dumps({"schemaVersion": 2, "config": {"digest": "md5:x", "size": -1}, "layers": None}).encode(),
        b"\x06<html><body>502 Bad Gateway</body></html>", b"\x00{\"schemaVersion\":1}"],
    "fuzz_registry_error": [b"\x01\x91" + json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "auth required",
                                                                    "detail": [{"Type": "repository"}]}]}).encode(),
                            b"\x01\x94<html><title>404 Not Found</title>\x1b[31m</html>",
                            b"\x01\xf4" + json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN"}] * 6}).encode(),
                            b"\x01\xa5\xff\xfe binary"],
    "fuzz_token_answer": [json.dumps({"token": "abc.def.ghi", "expires_in": 300, "issued_at": "2026-01-01T00:00:00Z"}).encode(),
                          json.dumps({"access_token": "tok", "expires_in": 1e300}).encode(),
                          json.dumps({"token": "has space", "expires_in": "x"}).encode(), b"<html>", b"{}"],
    "fuzz_provider_answers": [
        b"\x00" + json.dumps({"data": {"data": {"password": "s3cret"}, "metadata": {"version": 1}}}).encode(),
        b"\x00" + json.dumps({"data": {"data": {"password": 5}}}).encode(),
        b"\x01" + json.dumps({"errors": ["permission denied", "token hvs.FUZZ-CREDENTIAL-0123456789 expired"]}).encode(),
        b"\x05" + json.dumps({"errors": []}).encode(),
        b"\x06" + json.dumps({"SecretString": json.dumps({"password": "p"})}).encode(),
        b"\x02" + json.dumps({"SecretBinary": "AAAA"}).encode(),
        b"\x03" + json.dumps({"__type": "com.amazonaws#ResourceNotFoundException", "message": "no"}).encode(),
        b"\x07<ErrorResponse><Error><Code>AccessDenied</Code><Message>nope</Message></Error></ErrorResponse>"],
    "fuzz_request_body": [json.dumps({"name": "ghcr", "registry": "ghcr.io", "username": "u", "password": "p",
                                      "description": "d"}).encode(),
                          json.dumps({"name": "agent-1", "image": "nginx:1", "event": "session.start"}).encode(),
                          json.dumps({"name": "x", "provider_id": "00000000-0000-4000-8000-000000000000",
                                      "remote_path": "secret/app#password", "extra": 1}).encode(),
                          b'{"name":"a\\u0000b","name2":1}', b'{"name":"x","name":"y"}'],
    "fuzz_keyring": [json.dumps({"version": 1, "active": "k1", "keys": [
                         {"id": "k1", "created_at": "2026-01-01T00:00:00Z",
                          "key": base64.b64encode(b"k" * 32).decode()}]}).encode(),
                     json.dumps({"version": 1, "active": "k2", "keys": []}).encode(), b"{", b""],
    "fuzz_tf_msgpack": [msgpack(config), msgpack([1, "two", None]), msgpack({"a": {"b": [True, 1.0e308]}}),
                        b"\xdc\xff\xff", b"\xc1"],
    "fuzz_tf_protobuf": [b"\x01" + pb_field(1, pb_field(1, msgpack({"api_url": "http://127.0.0.1:1", "api_token": "t"}))),
                         b"\x05" + pb_field(1, b"agyn_secret") + pb_field(2, pb_field(1, msgpack(None)))
                         + pb_field(3, pb_field(1, msgpack(config))),
                         b"\x0a" + pb_field(2, b'{"a":[1,2,{"b":null}]}'), b"\x06" + b"\xff" * 8],
    "fuzz_grpc_framing": [grpc_stream(b"/tfplugin6.Provider/GetProviderSchema", b""),
                          grpc_stream(b"/tfplugin6.Provider/PlanResourceChange", b"abc"),
                          grpc_stream(b"/other.Service/Method", b""),
                          b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0, b"\x00\x04\x7f\xff\xff\xff")],
}

for target, seeds in SEEDS.items():
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    for i, seed in enumerate(seeds):
        with open(os.path.join(directory, "seed-%02d" % i), "wb") as f:
            f.write(seed)
print("seeds written for %d targets" % len(SEEDS), file=sys.stderr)
