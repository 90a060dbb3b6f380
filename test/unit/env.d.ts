// The unit tests run as the cell worker: its bindings are the test env.
import type { CellEnv } from "../../workers/cell/env";

declare global {
  namespace Cloudflare {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merges the cell's bindings into the global Env
    interface Env extends CellEnv {}
  }
}
