/** Keys derived from the cluster secret: one way, separate, and sealing that holds only with the right key and place. */
import { describe, expect, it } from "vitest";
import { deriveContentKeys, deriveRelayKey, keyedId, open, seal } from "../../lib/cluster-keys";
import { admissionProof, fromBase64Url } from "../../durable-objects/identity/signing";

describe("cluster keys", () => {
  it("the relay key is 32 bytes of base64url, the same for the same secret and different for another", async () => {
    const a = await deriveRelayKey("correct horse battery staple");
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fromBase64Url(a)!.byteLength).toBe(32);
    expect(await deriveRelayKey("correct horse battery staple")).toBe(a);
    expect(await deriveRelayKey("correct horse battery stapler")).not.toBe(a);
    expect(a).not.toContain("correct");
  });

  it("an empty secret is refused", async () => {
    await expect(deriveRelayKey("")).rejects.toThrow(/empty/);
    await expect(deriveContentKeys("")).rejects.toThrow(/empty/);
  });

  it("sealed text opens with the same secret and place only", async () => {
    const keys = await deriveContentKeys("s3cret");
    const box = await seal(keys, "Postgres runs on port 5433", "row-1");
    expect(box).not.toContain("Postgres");
    expect(atob(box.replace(/-/g, "+").replace(/_/g, "/"))).not.toContain("Postgres");
    expect(await open(keys, box, "row-1")).toBe("Postgres runs on port 5433");
    expect(await open(keys, box, "row-2")).toBeUndefined();
    expect(await open(await deriveContentKeys("other"), box, "row-1")).toBeUndefined();
  });

  it("sealing twice gives two different boxes (a fresh IV each time)", async () => {
    const keys = await deriveContentKeys("s3cret");
    const [x, y] = await Promise.all([seal(keys, "same", "b"), seal(keys, "same", "b")]);
    expect(x).not.toBe(y);
  });

  it("an altered, truncated or malformed box does not open", async () => {
    const keys = await deriveContentKeys("s3cret");
    const box = await seal(keys, "a memory", "b");
    const flipped = box[20] === "A" ? "B" : "A";
    expect(await open(keys, box.slice(0, 20) + flipped + box.slice(21), "b")).toBeUndefined();
    expect(await open(keys, box.slice(0, 30), "b")).toBeUndefined();
    expect(await open(keys, "not base64url!", "b")).toBeUndefined();
    expect(await open(keys, "", "b")).toBeUndefined();
  });

  it("keyed ids are stable per secret, differ across secrets, and do not show the id", async () => {
    const keys = await deriveContentKeys("s3cret");
    const id = await keyedId(keys, "e\u0000proj\u0000Desk");
    expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await keyedId(keys, "e\u0000proj\u0000Desk")).toBe(id);
    expect(await keyedId(keys, "e\u0000proj\u0000Desk2")).not.toBe(id);
    expect(await keyedId(await deriveContentKeys("other"), "e\u0000proj\u0000Desk")).not.toBe(id);
  });

  it("the relay key admits like a cluster secret (an HMAC proof) but is not the content key", async () => {
    const relayKey = await deriveRelayKey("s3cret");
    const keys = await deriveContentKeys("s3cret");
    // Sealing with a key derived from the relay key (as if it were the secret) does not give the cells' boxes.
    const fromRelay = await deriveContentKeys(relayKey);
    const box = await seal(keys, "private", "b");
    expect(await open(fromRelay, box, "b")).toBeUndefined();
    const proof = await admissionProof(relayKey, "cell-a", "A".repeat(43), 1_700_000_000);
    expect(proof).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
