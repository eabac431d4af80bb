// mtcute 0.30.3 (npm @mtcute/node, layer 227, served as layer 222: the newest sampled layer not
// above it) signs up a test number against our server (auth.sendCode, auth.signIn answering
// signUpRequired, then a raw auth.signUp: mtcute has no sign-up helper), reads it back with
// getMe, updates.getState, logs out, then on a new client logs the number back in with its own
// start() flow. mtcute decodes every message with its layer's types; what it cannot decode it
// logs ("received unknown object …") before resetting the session, so the logger here ends
// the run on any warning or error at once. Prints one JSON line of what it saw.
//
// usage: node mtcute_login.mjs PUBLIC_KEY_PEM DC HOST:PORT PHONE   (MTCUTE_DEBUG=1: its log on stderr)

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MemoryStorage } from "@mtcute/core";
import { TelegramClient } from "@mtcute/node";
import serverKeyModule from "./server_key.cjs";

const { serverKey } = serverKeyModule;

const here = path.dirname(fileURLToPath(import.meta.url));

function fail(text) {
  console.log(JSON.stringify({ error: text }));
  process.exit(3);
}

// mtcute looks the offered fingerprints up as unpadded hex (`toString(16)`) in an index keyed by
// padded hex, so a key whose fingerprint starts with a zero digit is "unknown" to it (CLIENTS.md
// §1). Register ours under both spellings, in the module instance the client itself uses.
const { __publicKeyIndex } = await import(
  pathToFileURL(path.join(here, "node_modules/@mtcute/core/tl/binary/rsa-keys.js")).href
);

/** The key as mtcute's index holds it (what its `parsePublicKey` makes): hex modulus, exponent, fingerprint. */
function indexEntry(pem) {
  const key = serverKey(pem);
  return { modulus: key.n.toString("hex"), exponent: key.e.toString("hex"), fingerprint: key.fingerprintHex, old: false };
}

const [pemPath, dcText, address, phone] = process.argv.slice(2);
const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
const dc = Number(dcText);
const code = phone[5].repeat(5);
const warnings = [];
const key = indexEntry(fs.readFileSync(pemPath, "utf8"));
__publicKeyIndex[key.fingerprint] = key;
__publicKeyIndex[key.fingerprint.replace(/^0+/, "")] = key;

function newClient() {
  const dcOption = { id: dc, ipAddress: host, port, testMode: true };
  const client = new TelegramClient({
    apiId: 12345,
    apiHash: "0123456789abcdef0123456789abcdef",
    storage: new MemoryStorage(),
    testMode: true,
    defaultDcs: { main: dcOption, media: { ...dcOption, mediaOnly: true } },
    disableUpdates: true,
  });
  // Anything mtcute warns about (an unknown object, a bad_msg_notification) fails the run.
  client.log.mgr.level = process.env.MTCUTE_DEBUG ? 5 : 2;
  client.log.mgr.handler = (_color, level, tag, fmt, args) => {
    const text = `${tag} ${fmt} ${args.map((a) => (typeof a === "bigint" ? a.toString() : String(a))).join(" ")}`;
    if (process.env.MTCUTE_DEBUG) console.error(level, text);
    if (level <= 2) {
      warnings.push(text);
      fail(`mtcute logged: ${text}`);
    }
  };
  return client;
}

const timeout = (p, what) =>
  Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: timeout`)), 30000))]);

const out = {};
try {
  let tg = newClient();
  const sent = await timeout(tg.sendCode({ phone }), "sendCode");
  out.sent_code_type = sent.type;
  const step = await timeout(
    tg.call({ _: "auth.signIn", phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash, phoneCode: code }),
    "signIn",
  );
  out.sign_in = step._;
  const auth = await timeout(
    tg.call({ _: "auth.signUp", phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash, firstName: "Mt", lastName: "Cute" }),
    "signUp",
  );
  await tg.notifyLoggedIn(auth);
  let me = await timeout(tg.getMe(), "getMe");
  out.user_id = String(me.id);
  out.first_name = me.firstName;
  out.phone = me.phoneNumber;
  out.is_self = me.isSelf;
  const state = await timeout(tg.call({ _: "updates.getState" }), "getState");
  out.state = state._;
  await timeout(tg.logOut(), "logOut");
  out.logged_out = true;
  await tg.destroy();

  tg = newClient();
  me = await timeout(tg.start({ phone, code: () => code, codeSentCallback: () => {} }), "start");
  out.relogin_user_id = String(me.id);
  out.relogin_get_me = String((await timeout(tg.getMe(), "getMe")).id);
  await tg.destroy();
} catch (e) {
  fail(`${e.stack || e}`);
}
out.warnings = warnings.length;
console.log(JSON.stringify(out));
process.exit(0);
