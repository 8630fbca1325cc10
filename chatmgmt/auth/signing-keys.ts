import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { calculateJwkThumbprint, type JSONWebKeySet, type JWK } from "jose";
import { AppError } from "../../runtime/errors.js";

/**
 * The RS256 key that signs access tokens (D11). Kept as a PKCS#8 PEM file: loaded when it exists, else
 * generated (RSA-2048) and written atomically with mode 0600, so an embedded process keeps its key under
 * DATA_DIR and sessions survive a restart. `kid` is the key's RFC 7638 thumbprint.
 */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
}

export async function loadOrCreateSigningKey(path: string): Promise<SigningKey> {
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new AppError("CONFIG_INVALID", `cannot read the JWT signing key ${path}`, { cause: error });
    }
    pem = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString();
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, pem, { mode: 0o600 });
    await rename(temporary, path);
  }
  return signingKeyFromPem(pem, path);
}

export async function signingKeyFromPem(pem: string, source = "PEM"): Promise<SigningKey> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new AppError("CONFIG_INVALID", `${source} is not a PEM private key`, { cause: error });
  }
  if (
    privateKey.asymmetricKeyType !== "rsa" ||
    (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048
  ) {
    throw new AppError("CONFIG_INVALID", `${source} must be an RSA key of at least 2048 bits (RS256)`);
  }
  const exported = createPublicKey(privateKey).export({ format: "jwk" }) as JWK;
  const kid = await calculateJwkThumbprint({ kty: "RSA", n: exported.n ?? "", e: exported.e ?? "" });
  return {
    kid,
    privateKey,
    publicJwk: { kty: "RSA", n: exported.n, e: exported.e, kid, alg: "RS256", use: "sig" },
  };
}

export const jwksOf = (key: SigningKey): JSONWebKeySet => ({ keys: [{ ...key.publicJwk }] });
