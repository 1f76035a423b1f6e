// The GPU architectures the preprocessing kernel is compiled for, printed one nvcc flag a line for binding.gyp:
//   node nvcc-arch-flags.js [path/to/nvcc]     (or --cuda X.Y --arch arm64|x64 to see another toolkit's choice)
// NVCC_ARCH_FLAGS overrides them (e.g. "-arch=native" on the machine that will run it). The choice follows the
// toolkit: CUDA 13 can no longer compile for Xavier (7.2), and 11.x before 11.8 not yet for Ada and Hopper.
const { execFileSync } = require('node:child_process');

/** Each architecture: [first CUDA release that compiles for it, first that no longer does]. */
const SUPPORTED = {
  72: ['10.0', '13.0'], // Jetson Xavier (JetPack 5, CUDA 11.4)
  75: ['10.0'],
  80: ['11.0'],
  86: ['11.1'],
  87: ['11.4'], // Jetson Orin (JetPack 5 and 6)
  89: ['11.8'],
  90: ['11.8'],
};

/** Jetson: Xavier and Orin. x86-64: Turing to Hopper. The newest also as PTX, which newer GPUs compile at load time. */
const TARGETS = { arm64: [72, 87], x64: [75, 80, 86, 89, 90] };

const versionNumber = (version) => {
  const [major, minor] = version.split('.').map(Number);
  return major * 100 + minor;
};

function nvccArchFlags(cudaVersion, arch) {
  if (!TARGETS[arch]) throw new Error(`no default GPU architectures for ${arch}; set NVCC_ARCH_FLAGS`);
  const cuda = versionNumber(cudaVersion);
  const architectures = TARGETS[arch].filter((sm) => {
    const [first, gone] = SUPPORTED[sm];
    return cuda >= versionNumber(first) && (gone === undefined || cuda < versionNumber(gone));
  });
  if (architectures.length === 0) throw new Error(`CUDA ${cudaVersion} compiles for none of sm_${TARGETS[arch].join(', sm_')}; set NVCC_ARCH_FLAGS`);
  const newest = architectures[architectures.length - 1];
  return architectures.map((sm) => `-gencode=arch=compute_${sm},code=${sm === newest ? `[sm_${sm},compute_${sm}]` : `sm_${sm}`}`);
}

/** "13.0" from `nvcc --version`'s "Cuda compilation tools, release 13.0, V13.0.88". */
function toolkitVersion(nvcc) {
  let output;
  try {
    output = execFileSync(nvcc, ['--version'], { encoding: 'utf8' });
  } catch (error) {
    throw new Error(`cannot run ${nvcc} to read the CUDA version (${error.message.split('\n')[0]}); set CUDA_HOME, or NVCC_ARCH_FLAGS`);
  }
  const release = /release (\d+\.\d+)/.exec(output);
  if (!release) throw new Error(`${nvcc} --version does not say its release; set NVCC_ARCH_FLAGS`);
  return release[1];
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const override = process.env.NVCC_ARCH_FLAGS?.trim();
  const cuda = option('--cuda') ?? (override ? undefined : toolkitVersion(args.find((arg) => !arg.startsWith('--')) ?? 'nvcc'));
  const flags = override ? override.split(/\s+/) : nvccArchFlags(cuda, option('--arch') ?? process.arch);
  console.log(flags.join('\n'));
}

module.exports = { nvccArchFlags };
