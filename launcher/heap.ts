/**
 * The launcher's own memory. Starting the stack (bundling, reading the worker bundles, writing the
 * runtime's configuration) leaves garbage in the launcher's heap that V8 collects only when it next
 * needs room, which an idle launcher never does. One full collection once the stack is ready hands it
 * back (`bench startup` measures the whole process group).
 */
import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | undefined;

/** A full garbage collection now (V8's `gc`, exposed to this process alone). */
export function collectGarbage(): void {
  if (!collect) {
    v8.setFlagsFromString("--expose-gc");
    collect = vm.runInNewContext("gc") as () => void;
  }
  collect();
}
