// GramJS 2.26.22 (npm `telegram`, layer 198) signs up a test number against our server with
// its own login flow (client.start: updates.getState, auth.sendCode, auth.signIn, signUp for a
// new number), reads it back with getMe, logs out, then on a new session logs the number back
// in. GramJS decodes every answer with its layer-198 types; an object it cannot decode it only
// logs ("Type … not found") and drops, so the logger here ends the run on that line at once.
// Prints one JSON line of what it saw.
//
// usage: node gramjs_login.js PUBLIC_KEY_PEM HOST DC PHONE
//
// GramJS on Node always dials port 80 (TelegramClient.connect), so each DC listens on
// HOST:80; after PHONE_MIGRATE it takes the address from help.getConfig (CLIENTS.md §4).

"use strict";

const fs = require("fs");
const bigInt = require("big-integer");
const { TelegramClient, Api } = require("telegram");
const { StringSession } = require("telegram/sessions");
const { Logger, LogLevel } = require("telegram/extensions/Logger");
const RSA = require("telegram/crypto/RSA");
const { serverKey } = require("./server_key.cjs");

function fail(text) {
  console.log(JSON.stringify({ error: text }));
  process.exit(3);
}

/** Fails on what GramJS logs when it meets a constructor its layer lacks, or any error. */
class StrictLogger extends Logger {
  constructor() {
    super(LogLevel.INFO);
    this.warnings = [];
  }
  log(level, message) {
    if (/not found|Unknown constructor|Cannot read|TypeNotFound/i.test(message)) {
      fail(`GramJS could not decode: ${message}`);
    }
    if (level === LogLevel.ERROR) {
      fail(`GramJS error: ${message}`);
    }
    // GramJS warns "Disconnecting..." on every disconnect; anything else is counted.
    if (level === LogLevel.WARN && !message.startsWith("Disconnecting")) {
      this.warnings.push(message);
    }
  }
}

/** Registers the server's key under its signed fingerprint (GramJS does not compute it). */
function registerKey(pemPath) {
  const key = serverKey(fs.readFileSync(pemPath));
  RSA._serverKeys.set(key.fingerprint.toString(), {
    n: bigInt(key.n.toString("hex"), 16),
    e: Number(bigInt(key.e.toString("hex"), 16)),
  });
}

function newClient(host, dc, logger) {
  const session = new StringSession("");
  session.setDC(dc, host, 80);
  return new TelegramClient(session, 12345, "0123456789abcdef0123456789abcdef", {
    connectionRetries: 1,
    baseLogger: logger,
    testServers: true,
  });
}

async function main() {
  const [pemPath, host, dcText, phone] = process.argv.slice(2);
  const dc = Number(dcText);
  const code = phone[5].repeat(5);
  registerKey(pemPath);
  const logger = new StrictLogger();
  const out = {};
  const timeout = (p, what) =>
    Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: timeout`)), 30000))]);

  let client = newClient(host, dc, logger);
  let signUps = 0;
  await timeout(client.start({
    phoneNumber: async () => phone,
    phoneCode: async () => code,
    firstAndLastNames: async () => { signUps += 1; return ["Gram", "JS"]; },
    onError: async (e) => fail(`start: ${e}`),
  }), "start (sign-up)");
  out.signed_up = signUps === 1;
  out.dc = client.session.dcId;
  let me = await timeout(client.getMe(), "getMe");
  out.user_id = me.id.toString();
  out.first_name = me.firstName;
  out.phone = me.phone;
  out.is_self = me.self;
  const state = await timeout(client.invoke(new Api.updates.GetState()), "getState");
  out.state = state.className;
  const loggedOut = await timeout(client.invoke(new Api.auth.LogOut()), "logOut");
  out.logged_out = loggedOut.className;
  await client.disconnect();
  await client.destroy();

  client = newClient(host, dc, logger);
  await timeout(client.start({
    phoneNumber: async () => phone,
    phoneCode: async () => code,
    firstAndLastNames: async () => fail("asked to sign up a registered number"),
    onError: async (e) => fail(`start: ${e}`),
  }), "start (log in)");
  me = await timeout(client.getMe(), "getMe");
  out.relogin_user_id = me.id.toString();
  out.relogin_dc = client.session.dcId;
  out.authorized = await client.checkAuthorization();
  await client.disconnect();
  await client.destroy();
  out.warnings = logger.warnings.length;
  out.first_warning = logger.warnings[0] || "";
  console.log(JSON.stringify(out));
  process.exit(0);
}

main().catch((e) => fail(`${e.stack || e}`));
