import { createPrivateKey, createPublicKey } from 'node:crypto';

/** ZeroMQ's Z85 alphabet (RFC 32): 5 characters carry 4 bytes. */
const Z85_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;
/** PKCS#8 wrapping of a raw X25519 private key (RFC 8410), so Node's crypto can derive its public key. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** Whether `text` is a CURVE key as ZeroMQ writes them: 32 bytes in Z85, 40 characters. */
export function isZ85Key(text: string): boolean {
  return Z85_KEY.test(text) && z85Decode(text) !== undefined;
}

/** Z85 text of `bytes` (a multiple of 4 long), as libzmq's zmq_z85_encode. */
export function z85Encode(bytes: Uint8Array): string {
  let text = '';
  for (let offset = 0; offset < bytes.length; offset += 4) {
    let value = ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3];
    let group = '';
    for (let digit = 0; digit < 5; digit++) {
      group = Z85_ALPHABET[value % 85] + group;
      value = Math.floor(value / 85);
    }
    text += group;
  }
  return text;
}

/** The bytes of Z85 text, or undefined where a group of 5 characters is beyond 32 bits. */
function z85Decode(text: string): Buffer | undefined {
  const bytes = Buffer.alloc((text.length / 5) * 4);
  for (let group = 0; group < text.length / 5; group++) {
    let value = 0;
    for (let digit = 0; digit < 5; digit++) value = value * 85 + Z85_ALPHABET.indexOf(text[group * 5 + digit]);
    if (value > 0xffffffff) return undefined;
    bytes.writeUInt32BE(value, group * 4);
  }
  return bytes;
}

/**
 * The public key of a CURVE secret key (both Z85). CURVE is X25519, so a host configures its secret key alone and
 * can never pair it with the wrong public key.
 */
export function curvePublicKey(secretKey: string): string {
  if (!isZ85Key(secretKey)) throw new Error('must be a CURVE key: 40 characters of Z85');
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, z85Decode(secretKey) as Buffer]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return z85Encode(Buffer.from(jwk.x as string, 'base64url'));
}
