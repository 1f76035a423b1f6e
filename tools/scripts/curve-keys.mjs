// `npm run keys [-- --pair]`: CURVE keys for encrypting and authenticating frames and detections between hosts
// (README, Configuration). Without arguments, one key pair per module (the preview's too) and every module's variables,
// each trusting only its neighbours; `--pair` prints a single key pair. Keys are Z85, which uses shell characters: values are
// single-quoted for a shell or .env, and go unquoted into a manifest's `Env` or a `_FILE`.
import { curveKeyPair } from 'zeromq';

const USAGE = `npm run keys [-- --pair]: CURVE keys for frames and detections between hosts (README, Configuration)
  (no argument)  a key pair per module (the preview's too) and each module's variables
  --pair         one key pair`;
const args = process.argv.slice(2);
const unknown = args.find((arg) => arg !== '--pair');
if (unknown !== undefined) {
  const asked = unknown === '--help' || unknown === '-h';
  (asked ? process.stdout : process.stderr).write(`${asked ? '' : `npm run keys: unknown argument ${unknown}\n`}${USAGE}\n`);
  process.exit(asked ? 0 : 2);
}
if (args.includes('--pair')) {
  const { publicKey, secretKey } = curveKeyPair();
  process.stdout.write(`public key: ${publicKey}\nsecret key: ${secretKey}\n`);
} else {
  const [capture, inference, telemetry, preview] = [curveKeyPair(), curveKeyPair(), curveKeyPair(), curveKeyPair()];
  const modules = {
    capture: { ZMQ_CURVE_SECRET_KEY: capture.secretKey, ZMQ_CURVE_CLIENT_KEYS: `${inference.publicKey},${preview.publicKey}` },
    inference: { ZMQ_CURVE_SECRET_KEY: inference.secretKey, FRAMES_CURVE_SERVER_KEY: capture.publicKey, ZMQ_CURVE_CLIENT_KEYS: `${telemetry.publicKey},${preview.publicKey}` },
    telemetry: { ZMQ_CURVE_SECRET_KEY: telemetry.secretKey, DETECTIONS_CURVE_SERVER_KEY: inference.publicKey },
    preview: { ZMQ_CURVE_SECRET_KEY: preview.secretKey, FRAMES_CURVE_SERVER_KEY: capture.publicKey, DETECTIONS_CURVE_SERVER_KEY: inference.publicKey },
  };
  process.stdout.write('# Each block is one module\'s environment; a secret key never leaves its module\'s host.\n');
  process.stdout.write('# Without the preview, its public key may stay in the lists. Another consumer gets a pair of its own: add its public key\n');
  process.stdout.write('# to ZMQ_CURVE_CLIENT_KEYS (comma-separated) of each module it connects to.\n');
  for (const [name, variables] of Object.entries(modules)) {
    process.stdout.write(`\n# ${name}\n${Object.entries(variables).map(([variable, value]) => `${variable}='${value}'`).join('\n')}\n`);
  }
}
