// The funded development accounts of anvil (and Hardhat): the well-known test
// mnemonic turned into a seed (BIP-39, PBKDF2-HMAC-SHA512), keys derived along
// m/44'/60'/0'/0/i (BIP-32 private derivation, BIP-44 coin type 60 = Ether),
// addresses as keccak-256 of the public key with EIP-55 checksum case.
// Derived here rather than read from anvil's banner so that an anvil started
// elsewhere (docker compose, --rpc-url) gives the same accounts.
import { createHmac, pbkdf2Sync } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';

/** The mnemonic anvil and Hardhat fund by default: test keys, public, worthless on any real chain. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

export interface DevAccount {
  index: number;
  /** 0x-prefixed 32-byte hex */
  privateKey: `0x${string}`;
  /** EIP-55 checksummed */
  address: string;
}

interface ExtendedKey {
  key: Uint8Array;
  chainCode: Uint8Array;
}

const ORDER = secp256k1.Point.Fn.ORDER;
const HARDENED = 0x8000_0000;

function hmac512(key: Uint8Array | string, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha512', key).update(data).digest());
}

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
}

function toBytes32(value: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(value.toString(16).padStart(64, '0'), 'hex'));
}

/** BIP-32 CKDpriv: the child key at `index` (hardened when index >= 2^31). */
function derive(parent: ExtendedKey, index: number): ExtendedKey {
  const data = new Uint8Array(37);
  if (index >= HARDENED) data.set(parent.key, 1);
  else data.set(secp256k1.getPublicKey(parent.key, true), 0);
  new DataView(data.buffer).setUint32(33, index);
  const i = hmac512(parent.chainCode, data);
  const tweak = toBigInt(i.subarray(0, 32));
  const child = (tweak + toBigInt(parent.key)) % ORDER;
  // Probability below 2^-127; BIP-32 says skip to the next index, we would rather know.
  if (tweak >= ORDER || child === 0n) throw new RangeError(`BIP-32 child ${index} is invalid`);
  return { key: toBytes32(child), chainCode: i.subarray(32) };
}

const accountNodes = new Map<string, ExtendedKey>();

/** m/44'/60'/0'/0 for `mnemonic`, computed once (PBKDF2 with 2048 rounds). */
function accountNode(mnemonic: string): ExtendedKey {
  let node = accountNodes.get(mnemonic);
  if (node === undefined) {
    const seed = pbkdf2Sync(mnemonic.normalize('NFKD'), 'mnemonic', 2048, 64, 'sha512');
    const i = hmac512('Bitcoin seed', new Uint8Array(seed));
    node = { key: i.subarray(0, 32), chainCode: i.subarray(32) };
    for (const index of [44 + HARDENED, 60 + HARDENED, 0 + HARDENED, 0]) node = derive(node, index);
    accountNodes.set(mnemonic, node);
  }
  return node;
}

/** EIP-55: hex digits upper-cased where the keccak-256 of the lower-case hex has a nibble >= 8. */
export function checksumEthAddress(lowerHex: string): string {
  const hex = lowerHex.replace(/^0x/, '').toLowerCase();
  const hash = Buffer.from(keccak_256(new TextEncoder().encode(hex))).toString('hex');
  let out = '0x';
  for (let i = 0; i < hex.length; i++) {
    const c = hex[i] ?? '';
    out += Number.parseInt(hash[i] ?? '0', 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/**
 * Development account `index` (0 = anvil's "(0)").
 * @throws RangeError for a negative or non-integer index
 */
export function devAccount(index: number, mnemonic: string = DEV_MNEMONIC): DevAccount {
  if (!Number.isSafeInteger(index) || index < 0 || index >= HARDENED) throw new RangeError(`account index ${index} is out of range`);
  const { key } = derive(accountNode(mnemonic), index);
  const publicKey = secp256k1.getPublicKey(key, false).subarray(1);
  const address = Buffer.from(keccak_256(publicKey).subarray(12)).toString('hex');
  return { index, privateKey: `0x${Buffer.from(key).toString('hex')}`, address: checksumEthAddress(address) };
}
