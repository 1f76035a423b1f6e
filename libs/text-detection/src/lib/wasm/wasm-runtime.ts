// lib es2022 has no WebAssembly typings (they live in lib.dom), so declare the little used here.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

const PAGE_BYTES = 65536;
const ALIGNMENT = 16;

/** Compiles a module's bytes once, then gives each caller an instance with its own memory. */
export function instanceFactory<Exports>(build: () => Uint8Array): () => Exports {
  let compiled: object | undefined;
  return () => {
    compiled ??= new WebAssembly.Module(build());
    return new WebAssembly.Instance(compiled).exports as Exports;
  };
}

/** Lays out aligned regions of the given byte sizes from address 0, growing the memory to fit. Returns their addresses. */
export function layOut(memory: WasmMemory, sizes: number[]): number[] {
  let end = 0;
  const addresses = sizes.map((size) => {
    const address = end;
    end = Math.ceil((address + size) / ALIGNMENT) * ALIGNMENT;
    return address;
  });
  const missing = end - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / PAGE_BYTES));
  return addresses;
}
