/** Inter-cell request signing: RFC 9421 / RFC 9530 vectors, then the AIOS profile end to end. */
import { beforeAll, describe, expect, it } from "vitest";
import {
  admissionProof,
  contentDigest,
  checkContentDigest,
  fromBase64,
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  isInnerList,
  MemoryReplayGuard,
  parseDictionary,
  serializeDictionary,
  serializeSignatureParams,
  signatureBase,
  signBytes,
  signRequest,
  toBase64,
  toBase64Url,
  verifyAdmissionProof,
  verifyBytes,
  verifyRequest,
  type KeyPair,
  type SignatureInput,
  type VerifyOptions,
} from "../../durable-objects/identity/signing";

const enc = (s: string) => new TextEncoder().encode(s);

describe("RFC test vectors", () => {
  // Verbatim from RFC 9421 Appendix B.1.4 (test-key-ed25519): the PEM bodies of the keys.
  const PRIVATE_PKCS8 = "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF";
  const PUBLIC_SPKI = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=";
  // Verbatim from RFC 9421 Appendix B.2 (the example request) and B.2.6 (signature input, base, signature).
  const request = () =>
    new Request("https://example.com/foo?param=Value&Pet=dog", {
      method: "POST",
      headers: {
        Host: "example.com",
        Date: "Tue, 20 Apr 2021 02:07:55 GMT",
        "Content-Type": "application/json",
        "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
        "Content-Length": "18",
      },
      body: '{"hello": "world"}',
    });
  const SIGNATURE_INPUT =
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"';
  const SIGNATURE = "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";
  const BASE = [
    '"date": Tue, 20 Apr 2021 02:07:55 GMT',
    '"@method": POST',
    '"@path": /foo',
    '"@authority": example.com',
    '"content-type": application/json',
    '"content-length": 18',
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
  ].join("\n");

  function input(): SignatureInput {
    const member = parseDictionary(SIGNATURE_INPUT)?.get("sig-b26");
    if (!member || !isInnerList(member)) throw new Error("vector did not parse");
    return { components: member.items.map((i) => String(i.value)), params: member.params };
  }
  function signature(): Uint8Array {
    const member = parseDictionary(SIGNATURE)?.get("sig-b26");
    if (!member || isInnerList(member) || !(member.value instanceof Uint8Array)) throw new Error("vector did not parse");
    return member.value;
  }

  it("B.2.6: reproduces the signature base and re-serializes Signature-Input exactly", () => {
    expect(signatureBase(request(), input())).toBe(BASE);
    expect(`sig-b26=${serializeSignatureParams(input())}`).toBe(SIGNATURE_INPUT);
    expect(serializeDictionary(parseDictionary(SIGNATURE)!)).toBe(SIGNATURE);
  });

  it("B.2.6: the published signature verifies with the published public key", async () => {
    const spki = fromBase64(PUBLIC_SPKI)!;
    const raw = toBase64Url(spki.subarray(spki.length - 32));
    expect(raw).toBe("JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"); // the JWK "x" of B.1.4
    const key = (await importPublicKey(raw))!;
    expect(await verifyBytes(key, signature(), enc(BASE))).toBe(true);
    expect(await verifyBytes(key, signature(), enc(BASE.replace("POST", "PUT")))).toBe(false);
  });

  it("B.2.6: signing the base with the published private key yields the published signature (Ed25519 is deterministic)", async () => {
    const key = await importPrivateKey(toBase64Url(fromBase64(PRIVATE_PKCS8)!));
    expect(toBase64(await signBytes(key, enc(BASE)))).toBe(toBase64(signature()));
  });

  it('RFC 9530: sha-256 of {"hello": "world"}', async () => {
    const body = enc('{"hello": "world"}');
    expect(await contentDigest(body)).toBe("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
    expect(await checkContentDigest("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", body)).toEqual({ ok: true });
    // RFC 9421 B.2's sha-512 digest of the same body, checked here only to confirm the vector's body bytes.
    const sha512 = new Uint8Array(await crypto.subtle.digest("SHA-512", body));
    expect(`sha-512=:${toBase64(sha512)}:`).toBe(request().headers.get("content-digest"));
  });
});

describe("Content-Digest checks", () => {
  const body = enc("abc");
  it.each([
    ["", 401],
    ["sha-256", 400],
    ["sha-256=:!!:", 400],
    ["sha-256=(1 2)", 400],
    ["sha-512=:AAAA:", 401],
    ["sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", 401],
  ])("%j is refused with %i", async (field, status) => {
    expect(await checkContentDigest(field, body)).toMatchObject({ ok: false, status });
  });
});

describe("structured fields", () => {
  it.each(['a=1, b=?0, c="x\\"y", d=:AQID:, e=tok/en:1, f=1.5, g=(1 "two" ?1);p;q=-3, h;x=1', "a=(), b=()"])(
    "round-trips %s",
    (text) => {
      expect(serializeDictionary(parseDictionary(text)!)).toBe(text);
    },
  );

  it.each([
    "a=",
    "a=(1",
    "a=1,",
    "A=1",
    "a=1 b=2",
    'a="\u00e9"',
    'a="x',
    "a=1.2345",
    "a=1234567890123456",
    "a=:*:",
    "a=?2",
    "a=(1,2)",
  ])("refuses %j", (text) => {
    expect(parseDictionary(text)).toBeUndefined();
  });
});

describe("signRequest / verifyRequest", () => {
  const NOW = 1_700_000_000_000;
  let alpha: KeyPair;
  let other: KeyPair;
  // Keys pinned to cells, as the caller's lookup is expected to do.
  const pins = new Map<string, { cellId: string; publicKey: string }>();
  const lookup = async (keyId: string, cellId: string) => {
    const pin = pins.get(keyId);
    return pin?.cellId === cellId ? pin.publicKey : undefined;
  };

  beforeAll(async () => {
    alpha = await generateKeyPair();
    other = await generateKeyPair();
    pins.set("alpha", { cellId: "alpha", publicKey: alpha.publicKey });
  });

  const post = (body: BodyInit = '{"content":"hi"}', url = "http://10.0.0.2:8000/message?x=1") =>
    new Request(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  const sign = (req: Request, opts: Parameters<typeof signRequest>[2] = {}) =>
    signRequest(req, { keyId: "alpha", privateKey: alpha.privateKey }, { now: NOW, ...opts });
  const verify = (req: Request, opts: Partial<VerifyOptions> = {}) =>
    verifyRequest(req, lookup, { now: NOW, seen: new MemoryReplayGuard({ now: () => NOW }), ...opts });
  /** A copy of a signed request with parts swapped out. */
  const tamper = async (req: Request, p: { method?: string; url?: string; body?: string; headers?: Record<string, string> }) => {
    const headers = new Headers(req.headers);
    for (const [k, v] of Object.entries(p.headers ?? {})) headers.set(k, v);
    const body = p.body ?? (await req.clone().text());
    return new Request(p.url ?? req.url, { method: p.method ?? req.method, headers, body });
  };

  it("generates base64url keys: 32-byte raw public, PKCS #8 private", () => {
    expect(alpha.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(alpha.privateKey).toMatch(/^[A-Za-z0-9_-]{64}$/);
  });

  it("sets the profile's headers exactly", async () => {
    const signed = await sign(post(), { nonce: "n1" });
    expect(signed.headers.get("signature-input")).toBe(
      'aios=("@method" "@path" "@query" "content-digest" "x-aios-cell");created=1700000000;nonce="n1";keyid="alpha";alg="ed25519";tag="aios-v1"',
    );
    expect(signed.headers.get("signature")).toMatch(/^aios=:[A-Za-z0-9+/]{86}==:$/);
    expect(signed.headers.get("x-aios-cell")).toBe("alpha");
    expect(signed.headers.get("content-digest")).toBe(await contentDigest(enc('{"content":"hi"}')));
    expect(signed.headers.get("content-type")).toBe("application/json");
  });

  it("round-trips and returns the body bytes", async () => {
    const res = await verify(await sign(post()));
    expect(res).toMatchObject({ ok: true, keyId: "alpha", cellId: "alpha" });
    expect(res.ok && new TextDecoder().decode(res.body)).toBe('{"content":"hi"}');
  });

  it("signs a bodiless GET with the digest of the empty body", async () => {
    const signed = await sign(new Request("http://peer/health"));
    expect(signed.headers.get("content-digest")).toBe("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
    const res = await verify(signed);
    expect(res.ok && res.body.byteLength).toBe(0);
  });

  it("accepts a signature exactly at the skew limit in either direction", async () => {
    const signed = await sign(post());
    expect((await verify(signed.clone(), { now: NOW + 300_000 })).ok).toBe(true);
    expect((await verify(signed, { now: NOW - 300_000 })).ok).toBe(true);
  });

  it.each([
    ["method", { method: "PUT" }, /does not verify/],
    ["path", { url: "http://10.0.0.2:8000/messages?x=1" }, /does not verify/],
    ["query", { url: "http://10.0.0.2:8000/message?x=2" }, /does not verify/],
    ["dropped query", { url: "http://10.0.0.2:8000/message" }, /does not verify/],
    ["body", { body: '{"content":"ho"}' }, /does not match Content-Digest/],
    [
      "digest and body",
      { body: "{}", headers: { "content-digest": "sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:" } },
      /does not verify/,
    ],
    ["signature", { headers: { signature: "aios=:" + "A".repeat(86) + "==:" } }, /does not verify/],
  ] as const)("refuses a tampered %s with 401", async (_name, change, reason) => {
    const res = await verify(await tamper(await sign(post()), change));
    expect(res).toMatchObject({ ok: false, status: 401 });
    expect(!res.ok && res.reason).toMatch(reason);
  });

  it("refuses a request claiming another cell: by key pinning, and by signature", async () => {
    const signed = await tamper(await sign(post()), { headers: { "x-aios-cell": "beta" } });
    expect(await verify(signed.clone())).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/unknown key/) });
    const unpinned = await verifyRequest(signed, async () => alpha.publicKey, { now: NOW, seen: new MemoryReplayGuard() });
    expect(unpinned).toMatchObject({ ok: false, status: 401, reason: "signature does not verify" });
  });

  it("refuses stale and future signatures", async () => {
    const signed = await sign(post());
    expect(await verify(signed.clone(), { now: NOW + 301_000 })).toMatchObject({
      status: 401,
      reason: expect.stringMatching(/stale/),
    });
    expect(await verify(signed, { now: NOW - 301_000 })).toMatchObject({ status: 401, reason: expect.stringMatching(/future/) });
  });

  it("refuses a replayed nonce, and only spends a nonce on a request that passed", async () => {
    const seen = new MemoryReplayGuard({ now: () => NOW });
    const signed = await sign(post());
    const forged = await tamper(signed, { body: "other" });
    expect(await verify(forged, { seen })).toMatchObject({ ok: false });
    expect(await verify(signed.clone(), { seen })).toMatchObject({ ok: true });
    expect(await verify(signed, { seen })).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/nonce/) });
  });

  it("refuses unknown keys, other keys, wrong tags and missing signatures", async () => {
    const byOther = await signRequest(post(), { keyId: "alpha", privateKey: other.privateKey }, { now: NOW });
    expect(await verify(byOther)).toMatchObject({ status: 401, reason: "signature does not verify" });
    const unknown = await signRequest(post(), { keyId: "ghost", privateKey: other.privateKey }, { now: NOW });
    expect(await verify(unknown)).toMatchObject({ status: 401, reason: expect.stringMatching(/unknown key "ghost"/) });
    expect(await verify(await sign(post(), { tag: "other-app" }))).toMatchObject({
      status: 401,
      reason: expect.stringMatching(/tag/),
    });
    expect(await verify(post())).toMatchObject({ status: 401, reason: expect.stringMatching(/not signed/) });
  });

  it("binds to the recipient when asked to", async () => {
    expect((await verify(await sign(post(), { target: "beta" }), { target: "beta" })).ok).toBe(true);
    expect(await verify(await sign(post(), { target: "beta" }), { target: "gamma" })).toMatchObject({ status: 401 });
    expect(await verify(await sign(post()), { target: "beta" })).toMatchObject({ status: 401 });
  });

  it("refuses a valid signature that leaves out a required component", async () => {
    const req = await sign(post());
    const input: SignatureInput = {
      components: ["@method", "@path", "content-digest", "x-aios-cell"],
      params: new Map<string, string | number>([
        ["created", NOW / 1000],
        ["nonce", "n"],
        ["keyid", "alpha"],
        ["alg", "ed25519"],
        ["tag", "aios-v1"],
      ]),
    };
    const sig = await signBytes(await importPrivateKey(alpha.privateKey), enc(signatureBase(req, input)));
    const forged = await tamper(req, {
      headers: { "signature-input": `aios=${serializeSignatureParams(input)}`, signature: `aios=:${toBase64(sig)}:` },
    });
    expect(await verify(forged)).toMatchObject({ status: 401, reason: 'signature must cover "@query"' });
  });

  const GARBAGE: [string, string, number][] = [
    ["", "", 401],
    ["aios", "aios=:AA==:", 400],
    ["aios=(", "aios=:AA==:", 400],
    ["aios=()", "aios=()", 400],
    ["aios=1", "aios=:AA==:", 400],
    ["aios=(1 2)", "aios=:AA==:", 400],
    ['aios=("@method";x);tag="aios-v1";alg="ed25519"', "aios=:AA==:", 400],
    ['aios=("@method");tag="aios-v1";alg="ed25519"', "aios=:AA==:", 400],
    ['aios=("@method");tag="aios-v1";alg="ed25519";created=1700000000;keyid="alpha"', "aios=:AA==:", 400],
    ['aios=("@method");tag="aios-v1";alg="ed25519";created=1700000000;keyid="alpha";nonce="n"', "aios=:AA==:", 401],
    ['aios=("@method");tag="aios-v1";alg="rsa-pss-sha512";created=1;keyid="a";nonce="n"', "aios=:AA==:", 401],
    ['aios=("@method");tag="aios-v1";alg="ed25519";created="now";keyid="a";nonce="n"', "aios=:AA==:", 400],
    ['other=("@method")', "other=:AA==:", 401],
    ['aios=("\u00ff")', "aios=:AA==:", 400],
    ["aios=(" + '"x" '.repeat(5000) + ")", "aios=:" + "A".repeat(10000) + ":", 401],
  ];
  it.each(GARBAGE)("answers garbage Signature-Input %j / Signature %j with %i, without throwing", async (input, sig, status) => {
    const signed = await sign(post());
    const res = await verify(await tamper(signed, { headers: { "signature-input": input, signature: sig } }));
    expect(res).toMatchObject({ ok: false, status });
  });

  it("refuses a malformed cell id header with 400", async () => {
    const res = await verify(await tamper(await sign(post()), { headers: { "x-aios-cell": "../Alpha" } }));
    expect(res).toMatchObject({ ok: false, status: 400 });
  });

  it("refuses an oversized body with 413, by Content-Length and by counting", async () => {
    const big = "x".repeat(2048);
    expect(await verify(await sign(post(big)), { maxBodyBytes: 1024 })).toMatchObject({ ok: false, status: 413 });
    const signed = await sign(post(big));
    const headers = new Headers(signed.headers);
    headers.delete("content-length");
    const stream = new Request("http://x/", { method: "POST", body: big }).body!;
    const streamed = new Request(signed.url, { method: "POST", headers, body: stream });
    expect(streamed.headers.get("content-length")).toBeNull();
    expect(await verify(streamed, { maxBodyBytes: 1024 })).toMatchObject({ ok: false, status: 413 });
    expect((await verify(await sign(post(big)))).ok).toBe(true);
  });
});

describe("MemoryReplayGuard", () => {
  it("forgets nonces after twice the skew, and fails closed when full", () => {
    let now = 0;
    const guard = new MemoryReplayGuard({ maxSkewSeconds: 10, maxEntries: 2, now: () => now });
    expect(guard.seen("k", "a", 0)).toBe(false);
    expect(guard.seen("k", "a", 0)).toBe(true);
    expect(guard.seen("other", "a", 0)).toBe(false);
    expect(guard.seen("k", "b", 0)).toBe(true); // full of live nonces
    now = 19_999;
    expect(guard.seen("k", "a", 0)).toBe(true);
    now = 20_000;
    expect(guard.seen("k", "b", 0)).toBe(false);
    expect(guard.size).toBe(1);
  });
});

describe("admission proofs", () => {
  const NOW = 1_700_000_000_000;
  const created = NOW / 1000;
  const pk = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs";

  it("is base64url HMAC-SHA256 over the documented message", async () => {
    const key = await crypto.subtle.importKey("raw", enc("s3cret"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = await crypto.subtle.sign("HMAC", key, enc(`aios-admit-v1\nalpha\n${pk}\n${created}`));
    expect(await admissionProof("s3cret", "alpha", pk, created)).toBe(toBase64Url(new Uint8Array(mac)));
  });

  it("verifies the right proof and refuses every wrong one", async () => {
    const proof = await admissionProof("s3cret", "alpha", pk, created);
    const check = (secret: string, cell: string, key: string, c: number, p: string, now = NOW) =>
      verifyAdmissionProof(secret, cell, key, c, p, { now });
    expect(await check("s3cret", "alpha", pk, created, proof)).toEqual({ ok: true });
    expect(await check("s3cret", "alpha", pk, created, proof, NOW + 300_000)).toEqual({ ok: true });
    const refused = [
      check("wrong", "alpha", pk, created, proof),
      check("s3cret", "beta", pk, created, proof),
      check("s3cret", "alpha", pk.replace("J", "K"), created, proof),
      check("s3cret", "alpha", pk, created + 1, proof),
      check("s3cret", "alpha", pk, created, proof, NOW + 301_000),
      check("s3cret", "alpha", pk, created, proof, NOW - 301_000),
      check("s3cret", "alpha", pk, created, proof.slice(0, -2)),
      check("s3cret", "alpha", pk, created, "not base64url!"),
      check("s3cret", "alpha\nx", pk, created, proof),
      check("", "alpha", pk, created, proof),
    ];
    for (const r of await Promise.all(refused)) expect(r.ok).toBe(false);
  });
});
