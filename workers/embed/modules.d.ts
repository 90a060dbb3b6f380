// The model's files, given to workerd as modules of their own (launcher/embedder.ts).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
declare module "*.bin" {
  const data: ArrayBuffer;
  export default data;
}
declare module "*.txt" {
  const text: string;
  export default text;
}
