// The server's public key as the JavaScript clients need it, from its PKCS#1 PEM: modulus,
// exponent and fingerprint (HS-2: the last 8 bytes of SHA1(TL bytes n ‖ TL bytes e), read as a
// little-endian 64-bit integer). Neither GramJS nor mtcute computes it for a key added by hand.

"use strict";

const crypto = require("crypto");

/** TL bytes: the length prefix (254 and 3 bytes from 254 on) and padding to 4. */
function tlBytes(data) {
  const head = data.length < 254
    ? Buffer.from([data.length])
    : Buffer.from([254, data.length & 255, (data.length >> 8) & 255, data.length >> 16]);
  const body = Buffer.concat([head, data]);
  return Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
}

/** { n, e } as big-endian Buffers; `fingerprint` signed (BigInt), `fingerprintHex` as 16 hex digits. */
function serverKey(pem) {
  const jwk = crypto.createPublicKey(pem).export({ format: "jwk" });
  const n = Buffer.from(jwk.n, "base64url");
  const e = Buffer.from(jwk.e, "base64url");
  const sha = crypto.createHash("sha1").update(Buffer.concat([tlBytes(n), tlBytes(e)])).digest();
  const low = sha.subarray(12, 20);
  return {
    n,
    e,
    fingerprint: low.readBigInt64LE(0),
    fingerprintHex: Buffer.from(low).reverse().toString("hex"),
  };
}

module.exports = { serverKey };
