// The wasm backend, given to workerd as a precompiled module of its own (launcher/embedder.ts).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
