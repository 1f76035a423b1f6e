// The GPU architectures the preprocessing kernel is compiled for, printed as nvcc flags for binding.gyp.
// NVCC_ARCH_FLAGS overrides them (e.g. "-arch=native" on the machine that will run it).
// Jetson: Xavier (7.2) and Orin (8.7). x86-64: Turing to Hopper, plus PTX for newer GPUs to compile at load time.
const defaults = {
  arm64: ['-gencode=arch=compute_72,code=sm_72', '-gencode=arch=compute_87,code=[sm_87,compute_87]'],
  x64: [75, 80, 86, 89].map((sm) => `-gencode=arch=compute_${sm},code=sm_${sm}`).concat('-gencode=arch=compute_90,code=[sm_90,compute_90]'),
};
const flags = process.env.NVCC_ARCH_FLAGS?.trim().split(/\s+/) ?? defaults[process.arch];
if (!flags) throw new Error(`no default GPU architectures for ${process.arch}; set NVCC_ARCH_FLAGS`);
console.log(flags.join('\n'));
