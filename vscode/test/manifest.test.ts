import { describe, expect, it } from "vitest";
import manifest from "../package.json";

describe("the extension's manifest", () => {
  it("runs on the local side of a remote window (where the stack's bridge is), else on the workspace side", () => {
    expect(manifest.extensionKind).toEqual(["ui", "workspace"]);
  });

  it("points at the bridge on this machine by default", () => {
    expect(manifest.contributes.configuration.properties["aios.bridgeUrl"].default).toBe("http://127.0.0.1:3001");
  });
});
